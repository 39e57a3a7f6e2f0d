package jujusim

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
)

// Provider plays the remote side of a relation the simulator creates: it
// answers the charm's request, as Charmed Kafka does for kafka_client, or
// publishes what the remote side always publishes (Loki its push URL), or
// nothing, for a remote app that only reads the charm's data (Prometheus,
// Grafana). It never touches the model itself; the simulator stores what it
// returns.
type Provider interface {
	// App is the remote application's name, e.g. "kafka-old".
	App() string
	// Units are the remote units, each joining the relation.
	Units() []string
	// Answer is called with the charm's app databag. It returns ok=false
	// while the request is incomplete (the provider waits for the next
	// relation-changed), else the provider's answer.
	Answer(ctx context.Context, relationID int, request map[string]string) (ProviderAnswer, bool, error)
}

// ProviderAnswer is what a provider publishes: its app databag and, for
// interfaces that answer per unit (loki_push_api's endpoint), its units'.
type ProviderAnswer struct {
	// Data are plain fields of the remote app's databag.
	Data map[string]string
	// UnitData are the remote units' databags, keyed by unit name (one of
	// Units()); a charm reads them with relation-get - <remote unit>.
	UnitData map[string]map[string]string
	// Secrets maps a field (e.g. "secret-user") to secret content; the
	// simulator stores each as a Juju secret and sets the field to its URI.
	Secrets map[string]map[string]string
}

// CredentialStyle is how a kafka_client provider hands over credentials.
type CredentialStyle int

const (
	// SecretFields puts username/password in a Juju secret named by the
	// `secret-user` field, as Charmed Kafka does with Juju 3 secrets.
	SecretFields CredentialStyle = iota
	// PlainFields writes `username` and `password` as plain databag fields,
	// as providers did before Juju secrets.
	PlainFields
)

// KafkaProvider plays Charmed Kafka's side of kafka_client against a real
// cluster: for each relation it creates the SCRAM-SHA-512 user
// relation-<id> with a random password and publishes the credentials.
type KafkaProvider struct {
	app        string
	endpoints  string
	createUser func(ctx context.Context, name, password string) error
	style      CredentialStyle
	tlsCA      string // "" publishes tls=disabled
}

// NewKafkaProvider returns a provider named app whose clients connect to
// endpoints (comma-separated host:port). createUser makes a SCRAM user on
// the cluster (Cluster.CreateUser), so this does not depend on how the
// cluster is run.
func NewKafkaProvider(app, endpoints string, createUser func(ctx context.Context, name, password string) error, style CredentialStyle) *KafkaProvider {
	return &KafkaProvider{app: app, endpoints: endpoints, createUser: createUser, style: style}
}

// WithTLS makes the provider publish tls=enabled and tls-ca=ca, with clients sent to endpoints
// (the cluster's SASL_SSL listener), as Charmed Kafka does once TLS is related. Charmed Kafka 3
// publishes the word "enabled" as tls-ca instead of its CA: pass "enabled" to play that bug.
func (p *KafkaProvider) WithTLS(endpoints, ca string) *KafkaProvider {
	p.endpoints, p.tlsCA = endpoints, ca
	return p
}

// App is the provider's application name.
func (p *KafkaProvider) App() string { return p.app }

// Units is the one broker unit the provider presents.
func (p *KafkaProvider) Units() []string { return []string{p.app + "/0"} }

// Answer creates the relation's user once the requirer asked for a topic,
// and returns what Charmed Kafka's provider writes: endpoints, topic,
// tls, consumer-group-prefix for consumers, and the credentials.
func (p *KafkaProvider) Answer(ctx context.Context, relationID int, request map[string]string) (ProviderAnswer, bool, error) {
	topic := request["topic"]
	if topic == "" {
		return ProviderAnswer{}, false, nil
	}
	username := "relation-" + strconv.Itoa(relationID)
	password := rand.Text()
	if err := p.createUser(ctx, username, password); err != nil {
		return ProviderAnswer{}, false, fmt.Errorf("cannot create kafka user %s: %w", username, err)
	}
	ans := ProviderAnswer{Data: map[string]string{
		"endpoints": p.endpoints,
		"topic":     topic,
		"tls":       "disabled",
	}}
	if cg := request["consumer-group-prefix"]; cg != "" {
		ans.Data["consumer-group-prefix"] = cg
	} else if containsRole(request["extra-user-roles"], "consumer") {
		ans.Data["consumer-group-prefix"] = username + "-"
	}
	if p.style == PlainFields {
		ans.Data["username"] = username
		ans.Data["password"] = password
		if p.tlsCA != "" {
			ans.Data["tls"], ans.Data["tls-ca"] = "enabled", p.tlsCA
		}
	} else {
		ans.Secrets = map[string]map[string]string{"secret-user": {"username": username, "password": password}}
		if p.tlsCA != "" {
			// The requirer asked for tls and tls-ca as secrets: both go in secret-tls.
			delete(ans.Data, "tls")
			ans.Secrets["secret-tls"] = map[string]string{"tls": "enabled", "tls-ca": p.tlsCA}
		}
	}
	return ans, true, nil
}

func containsRole(roles, role string) bool {
	for _, r := range strings.Split(roles, ",") {
		if strings.TrimSpace(r) == role {
			return true
		}
	}
	return false
}
