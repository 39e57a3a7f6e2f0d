package mm2

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// truncatedCA is PEM-shaped but not a whole certificate.
const truncatedCA = `-----BEGIN CERTIFICATE-----
MIIBhTCCASugAwIBAgIUQ0m0G7X6cL1jGk1p0vYzJb8kJ0kwCgYIKoZIzj0EAwIw
EDEOMAwGA1UEAwwFdGVzdGMwHhcNMjQwMTAxMDAwMDAwWhcNMzQwMTAxMDAwMDAw
WjAQMQ4wDAYDVQQDDAV0ZXN0YzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFJ0
-----END CERTIFICATE-----
`

func TestCheckCA(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	tests := []struct {
		name, pem, wantErr string
	}{
		{"one certificate", ca, ""},
		{"a chain, text around", "root:\n" + ca + "intermediate:\n" + ca, ""},
		{"Charmed Kafka 3's tls-ca", "enabled", "holds no PEM certificate"},
		{"empty", "", "holds no PEM certificate"},
		{"a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", `holds a PEM "PRIVATE KEY" block`},
		{"a truncated certificate", truncatedCA, "certificate 1 cannot be parsed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckCA(tt.pem)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}
