package kafkaclient

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// CAKey is the key of a CA certificate in a secret: the name the kafka_client provider gives
// the field, and a valid Juju secret key (keys must be 3+ characters of [a-z0-9-], so the
// shorter "ca" cannot exist in a Juju secret at all).
const CAKey = "tls-ca"

// CheckCA reports why pemText cannot serve as a trust anchor: it must hold at least one PEM
// CERTIFICATE block, nothing else, and every block must parse as an X.509 certificate. A CA the
// user typed is checked this strictly so that a bad one is named in the status, not found later
// in a handshake that only says "unknown authority".
func CheckCA(pemText string) error {
	rest := []byte(pemText)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("holds a PEM %q block; only CERTIFICATE blocks are accepted", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("certificate %d cannot be parsed: %w", n+1, err)
		}
		n++
	}
	if n == 0 {
		return errors.New("holds no PEM certificate")
	}
	return nil
}
