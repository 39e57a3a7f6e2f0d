// Package kafkaclient is the requirer side of Charmed Kafka's kafka_client interface, as the
// data-platform-libs DataInterfaces library defines it: what we ask for, and how we read the
// admin credentials the provider answers with, from Juju secrets (current providers) or from
// plain databag fields (older providers).
package kafkaclient

import (
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// PlaceholderTopic is the topic we request. The provider needs a non-empty topic that is not a
// wildcard before it creates a user; the admin role grants access to every topic anyway, and
// Canonical's own MirrorMaker integrator asks for a placeholder the same way.
const PlaceholderTopic = "__mirrormaker-user"

// RequestedSecrets are the secret fields we ask the provider to share through Juju secrets
// rather than plain databag fields.
var RequestedSecrets = []string{"username", "password", "tls", "tls-ca", "uris"}

// Request is the requirer's application databag: an admin user for a placeholder topic.
func Request() map[string]string {
	secrets, _ := json.Marshal(RequestedSecrets)
	return map[string]string{
		"topic":             PlaceholderTopic,
		"extra-user-roles":  "admin",
		"requested-secrets": string(secrets),
	}
}

// RequestCurrent reports whether our databag already holds an equivalent, well-formed request,
// so the leader writes only when something is missing or damaged.
func RequestCurrent(data map[string]string) bool {
	if data["topic"] != PlaceholderTopic || data["extra-user-roles"] != "admin" {
		return false
	}
	var got []string
	if err := json.Unmarshal([]byte(data["requested-secrets"]), &got); err != nil {
		return false
	}
	return slices.Equal(got, RequestedSecrets)
}

// Credentials are what the provider granted: where the brokers are and the admin user.
type Credentials struct {
	Endpoints []string // host:port
	Username  string
	Password  string
	TLS       bool
	CA        string // PEM, empty when none was shared or it was not a PEM
	// Warning is set when the provider sent something we chose to ignore, such as the known
	// Charmed Kafka 3 bug of a tls-ca field holding the word "enabled" instead of a certificate.
	Warning string
}

// ErrNotReady means the provider has not (yet) answered with everything we need. It is normal
// for a while after relating: the charm waits, it does not block.
var ErrNotReady = errors.New("credentials not yet provided")

// DataError is a provider answer we cannot use. It names the field and the reason, never a value
// that could be a secret.
type DataError struct {
	Field  string
	Reason string
}

func (e *DataError) Error() string { return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason) }

// UserSecretField is the provider's field naming the Juju secret of the relation's user
// (username, password, uris).
const UserSecretField = "secret-user"

// SecretGetter reads a Juju secret's content by URI.
type SecretGetter func(uri string) (map[string]string, error)

// Parse reads the provider's application databag. Secret fields win over plain fields, since a
// provider that supports secrets may leave stale plain fields behind from before an upgrade.
func Parse(data map[string]string, get SecretGetter) (Credentials, error) {
	var c Credentials
	user, err := readSecret(data, UserSecretField, get)
	if err != nil {
		return c, err
	}
	tls, err := readSecret(data, "secret-tls", get)
	if err != nil {
		return c, err
	}
	field := func(name string, secret map[string]string) string {
		if v, ok := secret[name]; ok && v != "" {
			return v
		}
		return data[name]
	}
	c.Username = field("username", user)
	c.Password = field("password", user)
	endpoints := field("endpoints", nil)
	if endpoints == "" {
		endpoints = field("uris", user)
	}
	if c.Username == "" || c.Password == "" || endpoints == "" {
		return c, ErrNotReady
	}
	if c.Endpoints, err = ParseEndpoints(endpoints); err != nil {
		return c, &DataError{Field: "endpoints", Reason: err.Error()}
	}
	switch tlsFlag := field("tls", tls); tlsFlag {
	case "", "disabled", "false":
	case "enabled", "true":
		c.TLS = true
	default:
		return c, &DataError{Field: "tls", Reason: fmt.Sprintf("want enabled or disabled, got %q", tlsFlag)}
	}
	// Without TLS a provider may still fill tls-ca (with "disabled", say): it means nothing then.
	if ca := field("tls-ca", tls); c.TLS && ca != "" {
		if IsPEM(ca) {
			c.CA = ca
		} else {
			c.Warning = "tls-ca is not a PEM certificate; using the default trust store"
		}
	}
	return c, nil
}

func readSecret(data map[string]string, key string, get SecretGetter) (map[string]string, error) {
	uri := data[key]
	if uri == "" {
		return nil, nil
	}
	content, err := get(uri)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s secret: %w", key, err)
	}
	return content, nil
}

// ParseEndpoints splits a comma-separated host:port list, rejecting entries a Kafka client
// could not use, so a bad answer is named in the status rather than in MM2's log.
func ParseEndpoints(s string) ([]string, error) {
	var out []string
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		host, port, err := net.SplitHostPort(e)
		if err != nil || host == "" {
			return nil, fmt.Errorf("%q is not host:port", e)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%q has no valid port", e)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, errors.New("no host:port given")
	}
	return out, nil
}

// IsPEM reports whether s holds at least one PEM certificate block.
func IsPEM(s string) bool {
	rest := []byte(s)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return false
		}
		if block.Type == "CERTIFICATE" {
			return true
		}
	}
}
