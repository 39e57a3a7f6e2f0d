package localkafka

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// TLSAuthority is a private CA made at test time, as an operator's own CA or the one Charmed
// Kafka's TLS operator signs brokers with: no public root vouches for it, so a client trusts
// its brokers only when given this CA.
type TLSAuthority struct {
	// CAPEM is the CA certificate, PEM: what a kafka_client provider should publish as tls-ca.
	CAPEM string
	cert  *x509.Certificate
	key   *ecdsa.PrivateKey
}

// tlsValidity is how long sandbox certificates live: any test or demo ends well before.
const tlsValidity = 7 * 24 * time.Hour

// NewTLSAuthority makes a self-signed CA named name.
func NewTLSAuthority(name string) (*TLSAuthority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("cannot make CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name + " sandbox CA", Organization: []string{"mirrormaker-k8s sandbox"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(tlsValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("cannot make CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("cannot parse CA certificate: %w", err)
	}
	return &TLSAuthority{CAPEM: pemOf("CERTIFICATE", der), cert: cert, key: key}, nil
}

// issue makes a server certificate for hosts (IP addresses or DNS names, each a SAN) signed by
// the CA, and returns its chain (leaf, then CA) and its unencrypted PKCS#8 key, both PEM, as
// Kafka's PEM key store takes them.
func (a *TLSAuthority) issue(hosts ...string) (chainPEM, keyPEM string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("cannot make server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(tlsValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return "", "", fmt.Errorf("cannot make server certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("cannot encode server key: %w", err)
	}
	return pemOf("CERTIFICATE", der) + a.CAPEM, pemOf("PRIVATE KEY", pkcs8), nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// ClusterTLS adds a SASL_SSL client listener to a sandbox cluster, as Charmed Kafka opens 9093
// when TLS is related. The SASL_PLAINTEXT listener stays for the sandbox's own clients (user
// creation, test traffic) and between brokers; only the SASL_SSL address is meant for the charm.
type ClusterTLS struct {
	// Authority signs the broker certificate.
	Authority *TLSAuthority
	// Host is the name the listener advertises and clients verify: "127.0.0.1" (an IP SAN) or
	// "localhost" (a DNS SAN). The certificate covers both.
	Host string
}

// misnamedHost is a loopback address no sandbox certificate names: a second SASL_SSL listener
// binds it, so a test can prove that clients check the broker's name, not just its CA.
const misnamedHost = "127.0.0.2"

// tlsServerProperties are the broker settings of a SASL_SSL listener on sslPort next to the
// SASL_PLAINTEXT one, and of a MISNAMED listener (SASL_SSL, same certificate) on misnamedPort
// of misnamedHost. The key store is PEM, inline (ssl.keystore.type=PEM, KIP-651): an
// unencrypted key is allowed inline, while a PEM key store file would need a key password.
// Nothing here touches ssl.endpoint.identification.algorithm: clients keep the https default.
func tlsServerProperties(port, sslPort, misnamedPort, controllerPort int, adminPassword, chainPEM, keyPEM, host string) map[string]string {
	jaas := adminJAAS(adminPassword)
	return map[string]string{
		"listeners": fmt.Sprintf("SASL_PLAINTEXT://127.0.0.1:%d,SASL_SSL://127.0.0.1:%d,MISNAMED://%s:%d,CONTROLLER://127.0.0.1:%d",
			port, sslPort, misnamedHost, misnamedPort, controllerPort),
		"advertised.listeners": fmt.Sprintf("SASL_PLAINTEXT://127.0.0.1:%d,SASL_SSL://%s,MISNAMED://%s:%d",
			port, net.JoinHostPort(host, fmt.Sprint(sslPort)), misnamedHost, misnamedPort),
		"listener.security.protocol.map":                        "CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,MISNAMED:SASL_SSL",
		"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": jaas,
		"listener.name.misnamed.scram-sha-512.sasl.jaas.config": jaas,
		"ssl.keystore.type":                                     "PEM",
		"ssl.keystore.certificate.chain":                        propertiesLines(chainPEM),
		"ssl.keystore.key":                                      propertiesLines(keyPEM),
		"ssl.client.auth":                                       "none",
	}
}

// propertiesLines writes a multi-line value as one properties line: Java's Properties.load
// turns each \n escape back into a newline.
func propertiesLines(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", `\n`)
}
