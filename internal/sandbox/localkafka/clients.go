package localkafka

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/IBM/sarama"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/sandbox/internal/poll"
)

// Credentials is a SCRAM-SHA-512 user of a sandbox cluster.
type Credentials struct {
	Username string
	Password string
}

// scramIterations is Kafka's minimum (and the default of kafka-configs.sh)
// for SCRAM-SHA-512.
const scramIterations = 4096

// Config is a sarama client config that authenticates to this cluster as
// creds over SASL_PLAINTEXT SCRAM-SHA-512, speaking the cluster's protocol
// version. Producers report successes, wait for all replicas and retry
// through leader moves; consumers
// start at the oldest offset, which is what tests want to read back.
func (c *Cluster) Config(creds Credentials) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.ClientID = "sandbox-" + c.Name
	cfg.Version = c.Dist.saramaVersion()
	cfg.Net.DialTimeout = 5 * time.Second
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Handshake = true
	cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
	cfg.Net.SASL.User = creds.Username
	cfg.Net.SASL.Password = creds.Password
	cfg.Net.SASL.SCRAMClientGeneratorFunc = kafka.SCRAMSHA512
	cfg.Metadata.Retry.Max = 5
	cfg.Metadata.Retry.Backoff = 200 * time.Millisecond
	cfg.Admin.Timeout = 15 * time.Second
	cfg.Producer.Return.Successes = true
	// A leader that moves (a node of a replicated cluster restarting) answers
	// NOT_LEADER until the client's metadata catches up, and a crashed one
	// answers nothing until the controller fences it (broker.session.timeout.ms,
	// 9 s): retry for 30 s, as a production client's delivery timeout would,
	// not 300 ms.
	cfg.Producer.Retry.Max = 120
	cfg.Producer.Retry.Backoff = 250 * time.Millisecond
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	return cfg
}

// NewClient connects a sarama client as creds.
func (c *Cluster) NewClient(creds Credentials) (sarama.Client, error) {
	cl, err := sarama.NewClient(c.Addrs(), c.Config(creds))
	if err != nil {
		return nil, fmt.Errorf("cannot connect to %s as %q: %w", c.Name, creds.Username, err)
	}
	return cl, nil
}

// NewAdmin connects a sarama cluster admin as creds.
func (c *Cluster) NewAdmin(creds Credentials) (sarama.ClusterAdmin, error) {
	a, err := sarama.NewClusterAdmin(c.Addrs(), c.Config(creds))
	if err != nil {
		return nil, fmt.Errorf("cannot connect admin to %s as %q: %w", c.Name, creds.Username, err)
	}
	return a, nil
}

// CreateUser creates (or resets) a SCRAM-SHA-512 user through the Kafka API,
// as Charmed Kafka does for each kafka_client relation. Any password works:
// it travels only inside the request, salted, never on argv or in a file.
// It returns once every node can authenticate the user, so callers may log in
// straight away.
func (c *Cluster) CreateUser(ctx context.Context, name, password string) error {
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return fmt.Errorf("cannot make salt: %w", err)
	}
	admin, err := c.NewAdmin(c.Admin)
	if err != nil {
		return err
	}
	defer admin.Close()
	results, err := admin.UpsertUserScramCredentials([]sarama.AlterUserScramCredentialsUpsert{{
		Name:       name,
		Mechanism:  sarama.SCRAM_MECHANISM_SHA_512,
		Iterations: scramIterations,
		Salt:       salt,
		Password:   []byte(password),
	}})
	if err != nil {
		return fmt.Errorf("cannot create user %q on %s: %w", name, c.Name, err)
	}
	for _, r := range results {
		if r.ErrorCode != sarama.ErrNoError {
			msg := ""
			if r.ErrorMessage != nil {
				msg = ": " + *r.ErrorMessage
			}
			return fmt.Errorf("cannot create user %q on %s: %w%s", name, c.Name, r.ErrorCode, msg)
		}
	}
	// The controller has committed the credential; the broker applies it when
	// it replays the metadata log. Wait until it describes the user.
	err = poll.Until(ctx, 10*time.Second, 100*time.Millisecond, func() (bool, error) {
		desc, err := admin.DescribeUserScramCredentials([]string{name})
		if err != nil {
			return false, nil
		}
		for _, d := range desc {
			if d.ErrorCode == sarama.ErrNoError && len(d.CredentialInfos) > 0 {
				return true, nil
			}
		}
		return false, nil
	}, fmt.Sprintf("user %q to appear on %s", name, c.Name))
	if err != nil {
		return err
	}
	// Every other node applies it when it replays the log too, and until then refuses the
	// user's login: with fast hooks a preflight reached a node of a 3-node cluster before it
	// had ("invalid credentials"). Return once every node lets the user in.
	creds := Credentials{Username: name, Password: password}
	for _, addr := range c.Addrs() {
		err := poll.Until(ctx, 30*time.Second, 100*time.Millisecond, func() (bool, error) {
			cfg := c.Config(creds)
			cfg.Metadata.Retry.Max = 0
			cl, err := sarama.NewClient([]string{addr}, cfg)
			if err != nil {
				return false, nil
			}
			return true, cl.Close()
		}, fmt.Sprintf("node %s of %s to accept user %q", addr, c.Name, name))
		if err != nil {
			return err
		}
	}
	return nil
}
