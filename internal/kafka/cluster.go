package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// Security protocols and SASL mechanisms Access accepts, spelled as Kafka
// clients spell them.
const (
	SASLPlaintext = "SASL_PLAINTEXT"
	SASLSSL       = "SASL_SSL"
	Plaintext     = "PLAINTEXT"
	SSL           = "SSL"

	ScramSHA512 = "SCRAM-SHA-512"
	ScramSHA256 = "SCRAM-SHA-256"
	Plain       = "PLAIN"
)

// Timeouts keep a hook from hanging on an unreachable cluster: a dial gives
// up after dialTimeout, a request after readTimeout, and metadata is
// retried only once.
const (
	dialTimeout   = 5 * time.Second
	readTimeout   = 15 * time.Second
	metadataRetry = 1
)

// protocolVersion is the Kafka version the client announces: 3.0 is the
// first with multi-group OffsetFetch (v8). Requests are clamped to what
// each broker advertises, and older brokers get one OffsetFetch per group.
var protocolVersion = sarama.V3_0_0_0

// Access is how to reach one cluster as an administrator: what the
// kafka_client relation (or the charm's config) provides.
type Access struct {
	// BootstrapServers is host:port of one or more brokers.
	BootstrapServers []string
	// SecurityProtocol is SASL_PLAINTEXT (the default), SASL_SSL, PLAINTEXT
	// or SSL.
	SecurityProtocol string
	// Mechanism is SCRAM-SHA-512 (the default), SCRAM-SHA-256 or PLAIN.
	Mechanism          string
	Username, Password string
	// CA is the PEM of the CA that signed the brokers' certificates, for
	// SSL and SASL_SSL; empty trusts the system's roots.
	CA string
}

// Cluster is a connection to one Kafka cluster, made by Dial, used by
// Measure. It is safe for concurrent use; Close it when done.
type Cluster struct {
	client sarama.Client
	conf   *sarama.Config

	mu sync.Mutex
	// extra holds brokers a Metadata answer named that the sarama client
	// had not registered, opened on first use.
	extra map[int32]*sarama.Broker
	// sent counts requests by kind, for the benchmark's requests/op.
	sent map[string]int
	// apis caches, per broker asked, the API keys it speaks (ApiVersions).
	apis map[int32]map[int16]bool
	// modern holds connections announcing modernVersion, by address.
	modern map[string]*sarama.Broker
}

// Dial connects to a cluster: one SASL handshake and one Metadata request,
// bounded by short timeouts and ctx. Nothing is connected before
// Dial is called, so a hook that does not measure pays nothing.
func Dial(ctx context.Context, a Access) (*Cluster, error) {
	conf, err := config(a)
	if err != nil {
		return nil, err
	}
	type result struct {
		client sarama.Client
		err    error
	}
	done := make(chan result, 1)
	go func() {
		c, err := sarama.NewClient(a.BootstrapServers, conf)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("cannot connect to %s as %q: %w", strings.Join(a.BootstrapServers, ","), a.Username, r.err)
		}
		return &Cluster{client: r.client, conf: conf, extra: map[int32]*sarama.Broker{}, sent: map[string]int{}}, nil
	case <-ctx.Done():
		go func() {
			if r := <-done; r.client != nil {
				r.client.Close()
			}
		}()
		return nil, fmt.Errorf("cannot connect to %s: %w", strings.Join(a.BootstrapServers, ","), ctx.Err())
	}
}

// Close closes every connection of the cluster.
func (c *Cluster) Close() error {
	c.mu.Lock()
	for _, b := range c.extra {
		_ = b.Close()
	}
	c.extra = map[int32]*sarama.Broker{}
	for _, b := range c.modern {
		_ = b.Close()
	}
	c.modern = nil
	c.mu.Unlock()
	return c.client.Close()
}

// config is the sarama configuration for a: SASL with SCRAM through
// xdg-go/scram, TLS with the given CA, short timeouts, no background
// metadata refresh, nothing that writes.
func config(a Access) (*sarama.Config, error) {
	if len(a.BootstrapServers) == 0 {
		return nil, errors.New("cannot connect: no bootstrap servers")
	}
	conf := sarama.NewConfig()
	conf.ClientID = "mirrormaker-k8s"
	conf.Version = protocolVersion
	conf.Net.DialTimeout = dialTimeout
	conf.Net.ReadTimeout = readTimeout
	conf.Net.WriteTimeout = readTimeout
	conf.Metadata.Retry.Max = metadataRetry
	conf.Metadata.Retry.Backoff = 250 * time.Millisecond
	conf.Metadata.RefreshFrequency = 0
	conf.Metadata.Full = true // Dial's one Metadata request proves access and finds the brokers

	protocol := a.SecurityProtocol
	if protocol == "" {
		protocol = SASLPlaintext
	}
	switch protocol {
	case SASLPlaintext, SASLSSL, Plaintext, SSL:
	default:
		return nil, fmt.Errorf("cannot connect: unknown security protocol %q", protocol)
	}
	if protocol == SASLSSL || protocol == SSL {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if a.CA != "" {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM([]byte(a.CA)) {
				return nil, errors.New("cannot connect: CA is not a PEM certificate")
			}
			tc.RootCAs = pool
		}
		conf.Net.TLS.Enable = true
		conf.Net.TLS.Config = tc
	}
	if protocol == SASLPlaintext || protocol == SASLSSL {
		conf.Net.SASL.Enable = true
		conf.Net.SASL.Handshake = true
		conf.Net.SASL.User = a.Username
		conf.Net.SASL.Password = a.Password
		switch a.Mechanism {
		case ScramSHA512, "":
			conf.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
			conf.Net.SASL.SCRAMClientGeneratorFunc = SCRAMSHA512
		case ScramSHA256:
			conf.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
			conf.Net.SASL.SCRAMClientGeneratorFunc = scramSHA256
		case Plain:
			conf.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		default:
			return nil, fmt.Errorf("cannot connect: unknown SASL mechanism %q", a.Mechanism)
		}
	}
	if err := conf.Validate(); err != nil {
		return nil, fmt.Errorf("cannot connect: %w", err)
	}
	return conf, nil
}
