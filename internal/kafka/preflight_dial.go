package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// CertificateUntrusted reports a TLS handshake that failed on the server's
// certificate: an unknown CA, a name or IP the certificate does not cover, or
// an expired certificate. The cluster answered; what to fix is trust, not the
// network.
func CertificateUntrusted(err error) bool {
	var unknownCA x509.UnknownAuthorityError
	var invalidCert x509.CertificateInvalidError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknownCA) || errors.As(err, &invalidCert) || errors.As(err, &hostname) || errors.As(err, &verify)
}
