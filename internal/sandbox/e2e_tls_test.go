package sandbox

import (
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/jujusim"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// TestTLS is a migration between two clusters that take clients only over SASL_SSL with
// certificates from private CAs, hostname verification on. The source's provider publishes
// its CA; the target's plays Charmed Kafka 3's bug and publishes tls-ca=enabled. Without a
// CA option the charm names the untrusted certificate and the option to set, at once; with
// target-tls-ca (and source-tls-ca) MM2 mirrors, and start-migration's preflight and both
// cutover phases work over TLS.
func TestTLS(t *testing.T) {
	begin := time.Now()
	m := newTLSMigration(t, 1, map[string]any{"topics": "tls-.*"})
	ctx := m.ctx
	const topic, group = "tls-orders", "tls-app"
	m.createTopic(topic, 3)
	m.produceAll(map[string]int{topic: 3000})
	require.NoError(t, m.src.Commit(group, topic, map[int32]int64{0: 1000, 1: 900, 2: 800}))

	t.Run("the clusters take TLS clients only with their CA, and check the name", func(t *testing.T) {
		dial := func(bootstrap, ca string) error {
			c, err := kafka.Dial(ctx, kafka.Access{BootstrapServers: []string{bootstrap}, SecurityProtocol: kafka.SASLSSL,
				Username: "admin", Password: m.source.Admin.Password, CA: ca})
			if err == nil {
				c.Close()
			}
			return err
		}
		require.NoError(t, dial(m.source.TLSBootstrap, m.source.CAPEM), "with its CA")
		var unknown x509.UnknownAuthorityError
		assert.ErrorAs(t, dial(m.source.TLSBootstrap, m.target.CAPEM), &unknown, "with another CA")
		// The certificate names 127.0.0.1 and localhost; the MISNAMED listener serves it
		// on 127.0.0.2, so only a name check refuses it.
		var hostname x509.HostnameError
		assert.ErrorAs(t, dial(m.source.TLSMisnamed, m.source.CAPEM), &hostname, "at an address the certificate does not name")
	})

	srcID := m.relateTLS("source", m.source.CAPEM)
	m.relateTLS("target", "enabled") // Charmed Kafka 3: the word, not the CA
	t.Logf("related over TLS: source %s (relation %d, its CA published), target %s (tls-ca=enabled)",
		m.source.TLSBootstrap, srcID, m.target.TLSBootstrap)

	t.Run("without target-tls-ca: the untrusted target is named, with the option, at once", func(t *testing.T) {
		st := m.statuses()
		for _, u := range m.units() {
			assert.Equal(t, "active: ready: run start-migration (target tls-ca is not a PEM certificate; using the default trust store; a private CA goes in the target-tls-ca option)", st[u], u)
		}
		t0 := time.Now()
		res, err := m.sim.Run(ctx, "leader", "start-migration", nil)
		require.NoError(t, err)
		took := time.Since(t0)
		require.True(t, res.Failed, "start-migration passed with an untrusted target: %v", res.Results)
		t.Logf("start-migration failed after %s: %s", took.Round(time.Millisecond), res.Message)
		assert.Contains(t, res.Message, "target: cluster: TLS certificate not trusted (give its CA with the target-tls-ca option)")
		assert.NotContains(t, res.Message, "source: cluster")
		assert.Less(t, took, 60*time.Second, "a bad certificate fails the handshake; nothing waits for a timeout")
		for _, u := range m.units() {
			assert.Zero(t, m.mm2PID(u), "%s: MM2 started", u)
		}
	})

	caSecret := func(ca string) string {
		uri, err := m.sim.AddSecret(ctx, map[string]string{"tls-ca": ca})
		require.NoError(t, err)
		return uri
	}
	t.Run("source-tls-ca overrides the relation's CA: the wrong one is named too", func(t *testing.T) {
		require.NoError(t, m.sim.SetConfig(ctx, map[string]any{"source-tls-ca": caSecret(m.target.CAPEM)}))
		res, err := m.sim.Run(ctx, "leader", "start-migration", map[string]any{"dry-run": true})
		require.NoError(t, err)
		require.True(t, res.Failed, "preflight passed with the wrong source CA: %v", res.Results)
		assert.Contains(t, res.Message, "source: cluster: TLS certificate not trusted (give its CA with the source-tls-ca option)")
		assert.Contains(t, res.Message, "target: cluster: TLS certificate not trusted")
	})

	require.NoError(t, m.sim.SetConfig(ctx, map[string]any{
		"source-tls-ca": caSecret(m.source.CAPEM), "target-tls-ca": caSecret(m.target.CAPEM)}))
	st := m.statuses()
	for _, u := range m.units() {
		assert.Equal(t, "active: ready: run start-migration", st[u], u)
	}
	m.startMigration()
	m.waitMirroring()
	t.Logf("[%5.1fs] MM2 mirroring over TLS", time.Since(begin).Seconds())

	t.Run("MM2 trusts each cluster's CA, over SASL_SSL, hostname verification on", func(t *testing.T) {
		for _, u := range m.units() {
			pod := m.pod(u)
			props, err := os.ReadFile(podFile(pod, mm2.PropertiesPath))
			require.NoError(t, err)
			for alias, c := range map[string]*localkafka.Cluster{"old": m.source, "new": m.target} {
				assert.Contains(t, string(props), alias+".bootstrap.servers="+c.TLSBootstrap+"\n", u)
				assert.Contains(t, string(props), alias+".security.protocol=SASL_SSL", u)
				ca, err := os.ReadFile(podFile(pod, "/etc/kafka/mm2-"+alias+"-ca.pem"))
				require.NoError(t, err)
				assert.Equal(t, c.CAPEM, string(ca), "%s: the %s CA MM2 trusts", u, alias)
			}
			assert.NotContains(t, string(props), "endpoint.identification", "%s: Kafka's https default must stand", u)
		}
	})

	m.assertPrivate(t)

	t.Run("an external source at an address its certificate does not name: MM2 and the charm refuse it", func(t *testing.T) {
		leader := m.units()[0]
		require.NoError(t, m.sim.RemoveRelation(ctx, "source"))
		creds, err := m.sim.AddSecret(ctx, map[string]string{"username": "admin", "password": m.source.Admin.Password, "tls-ca": m.source.CAPEM})
		require.NoError(t, err)
		require.NoError(t, m.sim.SetConfig(ctx, map[string]any{
			"source-bootstrap-servers": m.source.TLSMisnamed, "source-security-protocol": "SASL_SSL",
			"source-credentials": creds, "source-tls-ca": nil}))
		// MM2 restarts against the misnamed address with the right CA: only the JVM's
		// hostname check (https, Kafka's default) can refuse it.
		var logs string
		err = poll.Until(ctx, 90*time.Second, time.Second, func() (bool, error) {
			logs, _ = m.mm2Logs(leader, -1)
			return strings.Contains(logs, "SSL handshake failed"), nil
		}, "MM2 to refuse the misnamed source")
		require.NoError(t, err)
		t.Logf("MM2 says the certificate does not name 127.0.0.2: %v", strings.Contains(logs, "No subject alternative names matching IP address 127.0.0.2"))
		st := m.statuses()
		assert.Contains(t, st[leader], "source cluster TLS certificate not trusted (its certificate does not name the address used")
		// Back to the address the certificate names; the CA now comes from source-credentials' tls-ca.
		require.NoError(t, m.sim.SetConfig(ctx, map[string]any{"source-bootstrap-servers": m.source.TLSBootstrap}))
		pod := m.pod(leader)
		ca, err := os.ReadFile(podFile(pod, "/etc/kafka/mm2-old-ca.pem"))
		require.NoError(t, err)
		assert.Equal(t, m.source.CAPEM, string(ca), "the source CA from source-credentials' tls-ca")
	})

	// Records written while MM2 runs travel over TLS too. A fixed batch, not a producer that
	// never stops: MM2's pace on two busy cores is not what this test measures.
	m.produceAll(map[string]int{topic: 2000})
	m.waitCopied(2*time.Minute, topic)

	t.Run("cutover over TLS: consumers phase writes exact offsets, producers phase proves the copy", func(t *testing.T) {
		res, err := m.sim.Run(ctx, "leader", "cutover", map[string]any{"phase": "consumers", "groups": group, "timeout": "90s"})
		require.NoError(t, err)
		require.False(t, res.Failed, "cutover phase=consumers failed: %s\nlogs: %v", res.Message, res.Logs)
		assert.Equal(t, "exact offsets written for 1 group(s): start their consumers on the target", res.Results["status"])
		got, err := m.tgt.GroupOffsets(group, topic, 3)
		require.NoError(t, err)
		assert.Equal(t, map[int32]int64{0: 1000, 1: 900, 2: 800}, got, "no markers, no gaps: the same offsets on the target")

		res, err = m.sim.Run(ctx, "leader", "cutover", map[string]any{"phase": "producers", "timeout": "90s", "quiet-period": "5s"})
		require.NoError(t, err)
		require.False(t, res.Failed, "cutover phase=producers failed: %s\nlogs: %v", res.Message, res.Logs)
		assert.Equal(t, "cutover complete: MirrorMaker 2 stopped; clients may use "+m.target.TLSBootstrap, res.Results["status"])
		assert.Equal(t, res.Results["summary.source-records"], res.Results["summary.target-records"])
		assert.Equal(t, m.src.Produced(topic), m.assertIdentical(t, topic))
		for _, u := range m.units() {
			assert.Equal(t, client.StatusInactive, m.service(u).Current, "%s: MM2 stopped", u)
		}
	})
	t.Logf("TestTLS on Kafka %s took %s", m.source.Dist.Version, time.Since(begin).Round(time.Millisecond))
}

// relateTLS relates endpoint to a provider that sends clients to the cluster's SASL_SSL
// listener and publishes tls=enabled with ca as tls-ca.
func (m *migration) relateTLS(endpoint, ca string) int {
	m.t.Helper()
	c, app := m.source, "kafka-old"
	if endpoint == "target" {
		c, app = m.target, "kafka-k8s"
	}
	p := jujusim.NewKafkaProvider(app, c.Bootstrap, m.createUser(c), jujusim.SecretFields).WithTLS(c.TLSBootstrap, ca)
	id, err := m.sim.Relate(m.ctx, endpoint, p)
	require.NoError(m.t, err)
	return id
}

// newTLSMigration is newMigration with clusters that take the charm's clients over SASL_SSL:
// each its own private CA; the source advertises 127.0.0.1 (an IP SAN), the target localhost
// (a DNS SAN), so both kinds of name are verified.
func newTLSMigration(t *testing.T, units int, config map[string]any) *migration {
	t.Helper()
	hosts := map[string]string{"old": "127.0.0.1", "new": "localhost"}
	m := newMigrationOf(t, units, config, func(o *localkafka.ClusterOptions) {
		ca, err := localkafka.NewTLSAuthority(o.Name)
		require.NoError(t, err)
		o.TLS = &localkafka.ClusterTLS{Authority: ca, Host: hosts[o.Name]}
	})
	t.Logf("TLS listeners: old %s, new %s", m.source.TLSBootstrap, m.target.TLSBootstrap)
	return m
}
