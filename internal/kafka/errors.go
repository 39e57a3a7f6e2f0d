package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"

	"github.com/IBM/sarama"
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

// AuthenticationFailed reports brokers that refused the username and
// password.
func AuthenticationFailed(err error) bool { return errors.Is(err, sarama.ErrSASLAuthenticationFailed) }

// MechanismUnsupported reports brokers that do not offer the SASL mechanism
// asked for.
func MechanismUnsupported(err error) bool { return errors.Is(err, sarama.ErrUnsupportedSASLMechanism) }

// CoordinatorMoved reports a group answer from a broker that is not, or not
// yet, the group's coordinator: the group is to be asked again where
// FindCoordinator now points.
func CoordinatorMoved(err error) bool {
	return errors.Is(err, sarama.ErrNotCoordinatorForConsumer) ||
		errors.Is(err, sarama.ErrConsumerCoordinatorNotAvailable) ||
		errors.Is(err, sarama.ErrOffsetsLoadInProgress)
}
