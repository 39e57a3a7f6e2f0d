package charm

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks/hookstest"
	"mirrormaker-k8s/internal/mm2"
)

// testCAPEM is a self-signed CA certificate, made fresh so that it parses as X.509.
func testCAPEM(t *testing.T, name string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// tlsAnswer is Charmed Kafka's answer with TLS on: credentials and TLS in secrets, tls-ca
// holding ca (the 3 track's bug sends "enabled").
func (h *harness) tlsAnswer(endpoints, password, ca string) map[string]string {
	a := h.providerAnswer(endpoints, password)
	delete(a, "tls")
	a["secret-tls"] = h.m.AddSecret(map[string]string{"tls": "enabled", "tls-ca": ca})
	return a
}

// denied adds a secret the application may not read, as Juju answers for a revoked grant or
// around the removal of the relation that shared it.
func (h *harness) denied(content map[string]string) string {
	uri := h.m.AddSecret(content)
	h.m.Secret(uri).Denied = true
	return uri
}

// caFile is the CA the unit's MM2 trusts for alias, or "" when none was pushed.
func (h *harness) caFile(unit, alias string) string {
	f, ok := h.workloads[unit].files["/etc/kafka/mm2-"+alias+"-ca.pem"]
	if !ok {
		return ""
	}
	return string(f.Content)
}

func wantWaitingStatus(msg string) hookstest.Status {
	return hookstest.Status{Name: "waiting", Message: msg}
}

// Access to each cluster: provider secrets that cannot be read (fault 5), the tls-ca key of
// source-credentials (fault 3) and the *-tls-ca options that override a provider's CA (fault 6).
func TestGivenClusterAccessWhenHooksRunThenStatusAndTrustedCA(t *testing.T) {
	tests := []struct {
		name string
		// setup relates and configures; every hook must succeed.
		setup        func(t *testing.T, h *harness, ca string)
		want         hookstest.Status
		sourceCA     bool // the source's CA file holds ca
		targetCA     bool // the target's CA file holds ca
		noTargetFile bool
	}{{
		name: "source user secret permission denied: waiting, named",
		setup: func(t *testing.T, h *harness, ca string) {
			a := h.providerAnswer("old-0:9092", "pw")
			a["secret-user"] = h.denied(map[string]string{"username": "relation-9", "password": "pw"})
			h.relate("source", "kafka-old", a)
			h.relate("target", "kafka-k8s", h.providerAnswer("k:9092", "tgt"))
		},
		want: wantWaitingStatus("waiting for source credentials (secret not readable yet)"),
	}, {
		name: "target tls secret permission denied: waiting, named",
		setup: func(t *testing.T, h *harness, ca string) {
			h.relate("source", "kafka-old", h.providerAnswer("old-0:9092", "pw"))
			a := h.providerAnswer("k:9093", "tgt")
			a["secret-tls"] = h.denied(map[string]string{"tls": "enabled", "tls-ca": ca})
			h.relate("target", "kafka-k8s", a)
		},
		want: wantWaitingStatus("waiting for target credentials (secret not readable yet)"),
	}, {
		name: "target-tls-ca overrides Charmed Kafka 3's tls-ca=enabled",
		setup: func(t *testing.T, h *harness, ca string) {
			h.m.Config["target-tls-ca"] = h.m.AddSecret(map[string]string{"tls-ca": ca})
			h.relate("source", "kafka-old", h.providerAnswer("old-0:9092", "pw"))
			h.relate("target", "kafka-k8s", h.tlsAnswer("k:9093", "tgt", "enabled"))
		},
		want:     wantActive("ready: run start-migration"),
		targetCA: true,
	}, {
		name: "target-tls-ca overrides a provider CA too",
		setup: func(t *testing.T, h *harness, ca string) {
			h.m.Config["target-tls-ca"] = h.m.AddSecret(map[string]string{"tls-ca": ca})
			h.relate("source", "kafka-old", h.providerAnswer("old-0:9092", "pw"))
			h.relate("target", "kafka-k8s", h.tlsAnswer("k:9093", "tgt", testCAPEM(t, "other")))
		},
		want:     wantActive("ready: run start-migration"),
		targetCA: true,
	}, {
		name: "source-tls-ca on a TLS source relation",
		setup: func(t *testing.T, h *harness, ca string) {
			h.m.Config["source-tls-ca"] = h.m.AddSecret(map[string]string{"tls-ca": ca})
			h.relate("source", "kafka-old", h.tlsAnswer("old-0:9093", "pw", "enabled"))
			h.relate("target", "kafka-k8s", h.providerAnswer("k:9092", "tgt"))
		},
		want:     wantActive("ready: run start-migration"),
		sourceCA: true,
	}, {
		name: "target-tls-ca not granted: blocked, naming the option and grant-secret",
		setup: func(t *testing.T, h *harness, ca string) {
			h.m.Config["target-tls-ca"] = h.denied(map[string]string{"tls-ca": ca})
			h.ready()
		},
		want: wantBlocked("invalid config: target-tls-ca: cannot read the secret; grant it with " +
			"juju grant-secret <secret> mirrormaker-k8s"),
		noTargetFile: true,
	}, {
		name: "target-tls-ca unknown secret: blocked",
		setup: func(t *testing.T, h *harness, ca string) {
			h.m.Config["target-tls-ca"] = "secret:d0000000000000000000"
			h.ready()
		},
		want: wantBlocked("invalid config: target-tls-ca: cannot read the secret; grant it with " +
			"juju grant-secret <secret> mirrormaker-k8s"),
		noTargetFile: true,
	}, {
		name: "target-tls-ca without the tls-ca key: blocked",
		setup: func(t *testing.T, h *harness, ca string) {
			h.m.Config["target-tls-ca"] = h.m.AddSecret(map[string]string{"certificate": ca})
			h.ready()
		},
		want: wantBlocked("invalid config: target-tls-ca: the secret needs tls-ca (the PEM CA certificate: " +
			"juju add-secret <name> tls-ca#file=ca.pem)"),
		noTargetFile: true,
	}, {
		name: "target-tls-ca not a certificate: blocked",
		setup: func(t *testing.T, h *harness, ca string) {
			h.m.Config["target-tls-ca"] = h.m.AddSecret(map[string]string{"tls-ca": "enabled"})
			h.ready()
		},
		want:         wantBlocked("invalid config: target-tls-ca: tls-ca holds no PEM certificate"),
		noTargetFile: true,
	}, {
		name: "target-tls-ca a private key: blocked",
		setup: func(t *testing.T, h *harness, ca string) {
			key := "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
			h.m.Config["target-tls-ca"] = h.m.AddSecret(map[string]string{"tls-ca": key})
			h.ready()
		},
		want:         wantBlocked(`invalid config: target-tls-ca: tls-ca holds a PEM "PRIVATE KEY" block; only CERTIFICATE blocks are accepted`),
		noTargetFile: true,
	}, {
		name: "target-tls-ca not a secret URI: blocked",
		setup: func(t *testing.T, h *harness, ca string) {
			h.m.Config["target-tls-ca"] = "ca.pem"
			h.ready()
		},
		want:         wantBlocked("invalid config: target-tls-ca: want a Juju secret URI (secret:...)"),
		noTargetFile: true,
	}, {
		name: "target-tls-ca on a cluster without TLS: ready, warned",
		setup: func(t *testing.T, h *harness, ca string) {
			h.m.Config["target-tls-ca"] = h.m.AddSecret(map[string]string{"tls-ca": ca})
			h.ready()
		},
		want:         wantActive("ready: run start-migration (target-tls-ca is set but the target cluster does not use TLS)"),
		noTargetFile: true,
	}, {
		name: "external source: the CA under tls-ca, a valid Juju secret key",
		setup: func(t *testing.T, h *harness, ca string) {
			h.m.Config["source-bootstrap-servers"] = "10.0.0.1:9093"
			h.m.Config["source-security-protocol"] = "SASL_SSL"
			h.m.Config["source-credentials"] = h.m.AddSecret(map[string]string{"username": "admin", "password": "pw", "tls-ca": ca})
			h.relate("target", "kafka-k8s", h.providerAnswer("k:9092", "tgt"))
		},
		want:     wantActive("ready: run start-migration"),
		sourceCA: true,
	}, {
		name: "external source: source-tls-ca wins over source-credentials' tls-ca",
		setup: func(t *testing.T, h *harness, ca string) {
			h.m.Config["source-bootstrap-servers"] = "10.0.0.1:9093"
			h.m.Config["source-security-protocol"] = "SASL_SSL"
			h.m.Config["source-credentials"] = h.m.AddSecret(map[string]string{"username": "admin", "password": "pw", "tls-ca": testCAPEM(t, "old")})
			h.m.Config["source-tls-ca"] = h.m.AddSecret(map[string]string{"tls-ca": ca})
			h.relate("target", "kafka-k8s", h.providerAnswer("k:9092", "tgt"))
		},
		want:     wantActive("ready: run start-migration"),
		sourceCA: true,
	}, {
		name: "external source: a tls-ca that is not a certificate: blocked",
		setup: func(t *testing.T, h *harness, ca string) {
			h.m.Config["source-bootstrap-servers"] = "10.0.0.1:9093"
			h.m.Config["source-security-protocol"] = "SASL_SSL"
			h.m.Config["source-credentials"] = h.m.AddSecret(map[string]string{"username": "admin", "password": "pw", "tls-ca": "enabled"})
			h.relate("target", "kafka-k8s", h.providerAnswer("k:9092", "tgt"))
		},
		want: wantBlocked("invalid config: source-credentials: tls-ca holds no PEM certificate"),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 1)
			ca := testCAPEM(t, "private-ca")
			tt.setup(t, h, ca)
			h.hook(h.unit(0), "update-status", nil, "")
			assert.Equal(t, tt.want, h.status(h.unit(0)))
			if tt.sourceCA {
				assert.Equal(t, ca, h.caFile(h.unit(0), "old"), "the source CA MM2 trusts")
				assert.Contains(t, string(h.workloads[h.unit(0)].files[mm2.PropertiesPath].Content),
					"old.ssl.truststore.location=/etc/kafka/mm2-old-ca.pem")
			}
			if tt.targetCA {
				assert.Equal(t, ca, h.caFile(h.unit(0), "new"), "the target CA MM2 trusts")
				props := string(h.workloads[h.unit(0)].files[mm2.PropertiesPath].Content)
				assert.Contains(t, props, "new.ssl.truststore.location=/etc/kafka/mm2-new-ca.pem")
				assert.Contains(t, props, "new.security.protocol=SASL_SSL")
			}
			if tt.noTargetFile {
				assert.Empty(t, h.caFile(h.unit(0), "new"))
			}
			// Hostname verification is Kafka's default (https): nothing may turn it off.
			for _, f := range h.workloads[h.unit(0)].files {
				assert.NotContains(t, strings.ToLower(string(f.Content)), "endpoint.identification.algorithm", f.Path)
			}
		})
	}
}
