package charm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"mirrormaker-k8s/hooks"
	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/kafkaclient"
	"mirrormaker-k8s/internal/mm2"
)

// access is how far we got towards reaching one cluster. When cluster is nil, status says why.
type access struct {
	cluster  *mm2.Cluster
	status   status
	warning  string
	password passwordSource // where cluster's password was read
}

// passwordSource is where a cluster's password was read: the hook cache keeps this instead of
// the password, which lives in no file but the workload's secrets file, and a dispatch that uses
// the cache reads the password again from here (one call a side).
type passwordSource struct {
	// Secret is a Juju secret whose "password" key holds it.
	Secret string `json:"secret,omitempty"`
	// Else the "password" field of the remote application's data on this relation.
	RelationID string `json:"relation-id,omitempty"`
	App        string `json:"app,omitempty"`
}

// readPassword reads a password where it was read before; "" when it is no longer there.
func (c *Charm) readPassword(ctx context.Context, from passwordSource) (string, error) {
	switch {
	case from.Secret != "":
		content, err := c.secretGet(ctx, from.Secret)
		return content["password"], err
	case from.RelationID != "":
		data, err := c.tools.RelationGet(ctx, from.RelationID, from.App, true)
		return data["password"], err
	}
	return "", nil
}

// reasonSecretUnreadable is why a secret option blocks when Juju will not give its content: not
// found, or not granted to the charm.
const reasonSecretUnreadable = "cannot read the secret; grant it with juju grant-secret <secret> mirrormaker-k8s"

// relationID returns the live relation on an endpoint, or "" when there is none. In
// relation-broken Juju still lists the dying relation, so it is dropped here.
func (c *Charm) relationID(ctx context.Context, endpoint string) (string, error) {
	ids, err := c.tools.RelationIDs(ctx, endpoint)
	if err != nil {
		return "", fmt.Errorf("cannot list %s relations: %w", endpoint, err)
	}
	for _, id := range ids {
		if c.hook.Hook == endpoint+"-relation-broken" && id == c.hook.RelationID {
			continue
		}
		return id, nil
	}
	return "", nil
}

// sourceAccess reads the source cluster from the source relation or, for a cluster outside
// Juju, from the source-* options and their Juju secret.
func (c *Charm) sourceAccess(ctx context.Context, cfg config, relID string) (access, error) {
	switch {
	case relID != "" && cfg.external.configured():
		return unreachable(statusBlockedTwoSources()), nil
	case relID != "":
		a, err := c.relationAccess(ctx, relID, Source, cfg.alias(Source))
		if err != nil {
			return a, err
		}
		return c.withCA(ctx, a, Source, cfg.ca(Source))
	case cfg.external.configured():
		a, err := c.externalAccess(ctx, cfg)
		if err != nil {
			return a, err
		}
		return c.withCA(ctx, a, Source, cfg.ca(Source))
	}
	return unreachable(statusBlockedNoSource()), nil
}

func (c *Charm) targetAccess(ctx context.Context, cfg config, relID string) (access, error) {
	if relID == "" {
		return unreachable(statusBlockedNoTarget()), nil
	}
	a, err := c.relationAccess(ctx, relID, Target, cfg.alias(Target))
	if err != nil {
		return a, err
	}
	return c.withCA(ctx, a, Target, cfg.ca(Target))
}

// withCA replaces the CA of a reachable cluster by the one in the <side>-tls-ca secret, when
// that option is set. It exists because Charmed Kafka 3 publishes the word "enabled" as its
// tls-ca, so a private CA could not be trusted otherwise; the option wins over whatever the
// relation or source-credentials say, and the warning about an unusable relation CA goes.
func (c *Charm) withCA(ctx context.Context, a access, side Side, uri string) (access, error) {
	if a.cluster == nil || uri == "" {
		return a, nil
	}
	option := side.Option("tls-ca")
	content, err := c.secretGet(ctx, uri)
	if err != nil {
		var te *hooks.ToolError
		if errors.As(err, &te) { // not found, or not granted (permission denied)
			return unreachable(statusBlockedConfig(option, reasonSecretUnreadable)), nil
		}
		return access{}, fmt.Errorf("cannot read %s: %w", option, err)
	}
	ca := content[kafkaclient.CAKey]
	if strings.TrimSpace(ca) == "" {
		return unreachable(statusBlockedConfig(option, fmt.Sprintf("the secret needs %s (the PEM CA certificate: "+
			"juju add-secret <name> %s#file=ca.pem)", kafkaclient.CAKey, kafkaclient.CAKey))), nil
	}
	if err := mm2.CheckCA(ca); err != nil {
		return unreachable(statusBlockedConfig(option, fmt.Sprintf("%s %v", kafkaclient.CAKey, err))), nil
	}
	a.cluster.CA = ca
	a.warning = ""
	if a.cluster.SecurityProtocol != kafka.SASLSSL {
		a.warning = warnCAWithoutTLS(side)
	}
	return a, nil
}

// relationAccess reads one side's cluster from the kafka_client data its provider published.
func (c *Charm) relationAccess(ctx context.Context, relID string, side Side, alias string) (access, error) {
	app, err := c.remoteApp(ctx, relID)
	if err != nil {
		return access{}, fmt.Errorf("cannot read the %s relation's application: %w", side, err)
	}
	if app == "" {
		return unreachable(statusWaitingForCredentials(side)), nil
	}
	data, err := c.tools.RelationGet(ctx, relID, app, true)
	if err != nil {
		return access{}, fmt.Errorf("cannot read the %s relation's data: %w", side, err)
	}
	// The password is the user secret's when it holds one, else the plain field's (kafkaclient.Parse).
	from := passwordSource{RelationID: relID, App: app}
	creds, err := kafkaclient.Parse(data, func(uri string) (map[string]string, error) {
		content, err := c.secretGet(ctx, uri)
		if err == nil && uri == data[kafkaclient.UserSecretField] && content["password"] != "" {
			from = passwordSource{Secret: uri}
		}
		return content, err
	})
	var dataErr *kafkaclient.DataError
	switch {
	case errors.Is(err, kafkaclient.ErrNotReady):
		return unreachable(statusWaitingForCredentials(side)), nil
	case errors.As(err, &dataErr):
		return unreachable(statusBlockedRelationData(side, dataErr)), nil
	case errors.Is(err, hooks.ErrSecretNotFound), errors.Is(err, hooks.ErrPermissionDenied):
		// The provider has not yet shared the secret, or revoked it: Juju answers "not found"
		// or "permission denied" around relation removal and revoked grants. The provider
		// tells us with relation-changed or secret-changed; failing the hook would only make
		// Juju retry it in error.
		return unreachable(statusWaitingForSecret(side)), nil
	case err != nil:
		return access{}, fmt.Errorf("cannot read %s credentials: %w", side, err)
	}
	protocol := kafka.SASLPlaintext
	if creds.TLS {
		protocol = kafka.SASLSSL
	}
	a := access{cluster: &mm2.Cluster{Alias: alias, Access: kafka.Access{
		BootstrapServers: creds.Endpoints,
		SecurityProtocol: protocol,
		Mechanism:        kafka.ScramSHA512, // Charmed Kafka's client users are SCRAM-SHA-512
		Username:         creds.Username,
		Password:         creds.Password,
		CA:               creds.CA,
	}}, password: from}
	if creds.Warning != "" {
		// Only a CA the relation could not give is warned of; the option is the way out.
		a.warning = warnRelationCA(side, creds.Warning)
	}
	return a, nil
}

func (c *Charm) externalAccess(ctx context.Context, cfg config) (access, error) {
	ext := cfg.external
	if len(ext.bootstrap) == 0 {
		return unreachable(statusBlockedConfig("source-bootstrap-servers", "required with source-credentials")), nil
	}
	if ext.credentials == "" {
		return unreachable(statusBlockedConfig("source-credentials", "required with source-bootstrap-servers")), nil
	}
	content, err := c.secretGet(ctx, ext.credentials)
	if err != nil {
		var te *hooks.ToolError
		if errors.Is(err, hooks.ErrSecretNotFound) || errors.As(err, &te) {
			return unreachable(statusBlockedConfig("source-credentials", reasonSecretUnreadable)), nil
		}
		return access{}, fmt.Errorf("cannot read source-credentials: %w", err)
	}
	if content["username"] == "" || content["password"] == "" {
		return unreachable(statusBlockedConfig("source-credentials", "the secret needs username and password")), nil
	}
	// The CA is under tls-ca, as the kafka_client provider names it. The "ca" key once
	// documented here is not a valid Juju secret key (3+ characters), so no secret can hold it.
	ca := content[kafkaclient.CAKey]
	a := access{password: passwordSource{Secret: ext.credentials}}
	if ca != "" {
		if err := mm2.CheckCA(ca); err != nil {
			return unreachable(statusBlockedConfig("source-credentials", fmt.Sprintf("%s %v", kafkaclient.CAKey, err))), nil
		}
	}
	if ext.protocol != kafka.SASLSSL && ca != "" {
		a.warning = warnExternalCAWithoutTLS()
	}
	a.cluster = &mm2.Cluster{Alias: cfg.alias(Source), Access: kafka.Access{
		BootstrapServers: ext.bootstrap,
		SecurityProtocol: ext.protocol,
		Mechanism:        ext.mechanism,
		Username:         content["username"],
		Password:         content["password"],
		CA:               ca,
	}}
	return a, nil
}

// remoteApp is the application at the other end of a relation. A relation event names it
// (JUJU_REMOTE_APP is the remote application of JUJU_RELATION_ID), so only other events ask.
func (c *Charm) remoteApp(ctx context.Context, relID string) (string, error) {
	if relID == c.hook.RelationID && c.hook.RemoteApp != "" {
		return c.hook.RemoteApp, nil
	}
	return c.tools.RelationApp(ctx, relID)
}

// unreachable is a side MM2 cannot use yet, and the status that says why.
func unreachable(st status) access { return access{status: st} }
