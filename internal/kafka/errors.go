package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"

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

// Transient reports an error that asking again shortly may not repeat: a
// partition's leadership or a group's coordinator moving, a broker briefly
// unreachable or too slow, a replica set shrunk below its minimum. A
// cutover step that meets one waits and tries again within its timeout
// instead of failing; whatever else fails is reported at once.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	for _, k := range []sarama.KError{
		sarama.ErrNotLeaderForPartition, sarama.ErrLeaderNotAvailable, sarama.ErrRequestTimedOut,
		sarama.ErrNetworkException, sarama.ErrNotEnoughReplicas, sarama.ErrNotEnoughReplicasAfterAppend,
		sarama.ErrKafkaStorageError, sarama.ErrFencedLeaderEpoch, sarama.ErrUnknownLeaderEpoch,
		sarama.ErrOffsetNotAvailable, sarama.ErrReplicaNotAvailable,
	} {
		if errors.Is(err, k) {
			return true
		}
	}
	if CoordinatorMoved(err) || errors.Is(err, sarama.ErrOutOfBrokers) || errors.Is(err, sarama.ErrNotConnected) ||
		errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
