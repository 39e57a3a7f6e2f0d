package sandbox

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/jujusim"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// Passwords a provider could hand over that break naive quoting: in Java
// properties (\, =, :, #, !, leading and trailing spaces, \uXXXX, line
// breaks), in JAAS (" and ; and \), in Kafka's config providers (${...}),
// and outside the BMP (surrogate pairs in Java). One per cluster, so each
// relation's escaping is proven on its own.
const (
	hostileSourcePassword = " lead\"dq'sq\\bs=eq:co#ha!sh ${file:/x:y} \u00e9\u2603\U0001F600\nline2\\ "
	hostileTargetPassword = "\t${file:/etc/kafka/mm2-secrets.properties:old.sasl.jaas.config}\\u0041\";\r\n" +
		"\U0001D11E =:#! username=\"admin\" \\\\ end  "
)

// fixedPasswordProvider is Charmed Kafka's kafka_client side with a chosen
// password: the user is created with it and it is what the relation hands
// over, in a secret or as a plain field depending on the style.
type fixedPasswordProvider struct {
	*jujusim.KafkaProvider
	password string
}

func newFixedPasswordProvider(m *migration, app string, c *localkafka.Cluster, style jujusim.CredentialStyle, password string) *fixedPasswordProvider {
	create := m.createUser(c)
	withPassword := func(ctx context.Context, name, _ string) error { return create(ctx, name, password) }
	return &fixedPasswordProvider{KafkaProvider: jujusim.NewKafkaProvider(app, c.Bootstrap, withPassword, style), password: password}
}

// Answer publishes the chosen password instead of the generated one.
func (p *fixedPasswordProvider) Answer(ctx context.Context, relationID int, request map[string]string) (jujusim.ProviderAnswer, bool, error) {
	ans, ok, err := p.KafkaProvider.Answer(ctx, relationID, request)
	if err != nil || !ok {
		return ans, ok, err
	}
	if sec, found := ans.Secrets["secret-user"]; found {
		sec["password"] = p.password
	}
	if _, found := ans.Data["password"]; found {
		ans.Data["password"] = p.password
	}
	return ans, true, nil
}

// TestHostilePasswords relates both sides with users whose passwords hold
// every character that properties, JAAS or config-provider syntax treats
// specially (the source's in a Juju secret, the target's as a plain field):
// MM2 logs in to both, so records are mirrored, which proves the rendered
// escaping against Java's own parsers; and no password shows anywhere but
// the secrets file.
func TestHostilePasswords(t *testing.T) {
	m := newMigration(t, 1, nil)
	const topic = "hostile-auth"
	m.createTopic(topic, 2)
	require.NoError(t, m.src.Produce(topic, 1000))

	for _, c := range []struct {
		endpoint string
		cluster  *localkafka.Cluster
		app      string
		style    jujusim.CredentialStyle
		password string
	}{
		{"source", m.source, "kafka-old", jujusim.SecretFields, hostileSourcePassword},
		{"target", m.target, "kafka-k8s", jujusim.PlainFields, hostileTargetPassword},
	} {
		id, err := m.sim.Relate(m.ctx, c.endpoint, newFixedPasswordProvider(m, c.app, c.cluster, c.style, c.password))
		require.NoError(t, err)
		// The broker itself accepts the password: a failure below is the charm's.
		cl, err := c.cluster.NewClient(localkafka.Credentials{Username: "relation-" + strconv.Itoa(id), Password: c.password})
		require.NoError(t, err, "%s user cannot log in with its own password", c.endpoint)
		cl.Close()
	}
	m.startMigration()
	m.waitMirroring()
	m.waitCopied(2*time.Minute, topic)
	assert.Equal(t, 1000, m.assertIdentical(t, topic))
	m.assertPrivate(t)
}
