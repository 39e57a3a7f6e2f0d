package charm

import (
	"context"
	"errors"
	"fmt"

	"mirrormaker-k8s/hooks"
	"mirrormaker-k8s/internal/kafkaclient"
	"mirrormaker-k8s/internal/mm2"
)

// access is how far we got towards reaching one cluster. When cluster is nil, status says why.
type access struct {
	cluster *mm2.Cluster
	status  hooks.Status
	warning string
}

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
		return blocked("both a source relation and source-* config are set: remove one " +
			"(juju remove-relation mirrormaker-k8s:source, or juju config mirrormaker-k8s --reset " +
			"source-bootstrap-servers,source-credentials)"), nil
	case relID != "":
		return c.relationAccess(ctx, relID, SourceEndpoint, cfg.sourceAlias)
	case cfg.external.configured():
		return c.externalAccess(ctx, cfg)
	}
	return blocked("missing source relation or source-* config"), nil
}

func (c *Charm) targetAccess(ctx context.Context, cfg config, relID string) (access, error) {
	if relID == "" {
		return blocked("missing target relation"), nil
	}
	return c.relationAccess(ctx, relID, TargetEndpoint, cfg.targetAlias)
}

func (c *Charm) relationAccess(ctx context.Context, relID, endpoint, alias string) (access, error) {
	app, err := c.tools.RelationApp(ctx, relID)
	if err != nil {
		return access{}, fmt.Errorf("cannot read the %s relation's application: %w", endpoint, err)
	}
	if app == "" {
		return waiting(fmt.Sprintf("waiting for %s credentials", endpoint)), nil
	}
	data, err := c.tools.RelationGet(ctx, relID, app, true)
	if err != nil {
		return access{}, fmt.Errorf("cannot read the %s relation's data: %w", endpoint, err)
	}
	creds, err := kafkaclient.Parse(data, func(uri string) (map[string]string, error) {
		return c.tools.SecretGet(ctx, uri, true)
	})
	var dataErr *kafkaclient.DataError
	switch {
	case errors.Is(err, kafkaclient.ErrNotReady):
		return waiting(fmt.Sprintf("waiting for %s credentials", endpoint)), nil
	case errors.As(err, &dataErr):
		return blocked(fmt.Sprintf("%s relation: %s", endpoint, dataErr)), nil
	case errors.Is(err, hooks.ErrSecretNotFound):
		// The provider revoked or has not yet shared the secret: it will tell us with
		// relation-changed or secret-changed.
		return waiting(fmt.Sprintf("waiting for %s credentials (secret not readable yet)", endpoint)), nil
	case err != nil:
		return access{}, fmt.Errorf("cannot read %s credentials: %w", endpoint, err)
	}
	protocol := mm2.SASLPlaintext
	if creds.TLS {
		protocol = mm2.SASLSSL
	}
	a := access{cluster: &mm2.Cluster{
		Alias:            alias,
		BootstrapServers: creds.Endpoints,
		SecurityProtocol: protocol,
		Mechanism:        mm2.ScramSHA512, // Charmed Kafka's client users are SCRAM-SHA-512
		Username:         creds.Username,
		Password:         creds.Password,
		CA:               creds.CA,
	}}
	if creds.Warning != "" {
		a.warning = endpoint + " " + creds.Warning
	}
	return a, nil
}

func (c *Charm) externalAccess(ctx context.Context, cfg config) (access, error) {
	ext := cfg.external
	if len(ext.bootstrap) == 0 {
		return blocked("invalid config: source-bootstrap-servers: required with source-credentials"), nil
	}
	if ext.credentials == "" {
		return blocked("invalid config: source-credentials: required with source-bootstrap-servers"), nil
	}
	content, err := c.tools.SecretGet(ctx, ext.credentials, true)
	if err != nil {
		var te *hooks.ToolError
		if errors.Is(err, hooks.ErrSecretNotFound) || errors.As(err, &te) {
			return blocked("invalid config: source-credentials: cannot read the secret; grant it with " +
				"juju grant-secret <secret> mirrormaker-k8s"), nil
		}
		return access{}, fmt.Errorf("cannot read source-credentials: %w", err)
	}
	if content["username"] == "" || content["password"] == "" {
		return blocked("invalid config: source-credentials: the secret needs username and password"), nil
	}
	ca := content["ca"]
	a := access{}
	if ca != "" && !kafkaclient.IsPEM(ca) {
		return blocked("invalid config: source-credentials: ca is not a PEM certificate"), nil
	}
	if ext.protocol != mm2.SASLSSL && ca != "" {
		a.warning = "source-credentials has a ca but source-security-protocol is SASL_PLAINTEXT"
	}
	a.cluster = &mm2.Cluster{
		Alias:            cfg.sourceAlias,
		BootstrapServers: ext.bootstrap,
		SecurityProtocol: ext.protocol,
		Mechanism:        ext.mechanism,
		Username:         content["username"],
		Password:         content["password"],
		CA:               ca,
	}
	return a, nil
}

func blocked(msg string) access {
	return access{status: hooks.Status{Name: hooks.StatusBlocked, Message: msg}}
}

func waiting(msg string) access {
	return access{status: hooks.Status{Name: hooks.StatusWaiting, Message: msg}}
}
