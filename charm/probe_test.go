package charm

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A certificate the charm cannot trust is not an unreachable cluster: the status names the
// option that fixes it, first, since the status line is cut short.
func TestClusterErrorNamesTheCAOptionForUntrustedCertificates(t *testing.T) {
	unknownCA := &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}
	tests := []struct {
		name string
		err  *ClusterError
		want string
	}{{
		name: "unknown authority, wrapped as sarama wraps it",
		err:  &ClusterError{Side: "target", Err: fmt.Errorf("cannot connect to k:9093: %w", errors.Join(errors.New("out of brokers"), unknownCA))},
		want: "target cluster TLS certificate not trusted (give its CA with the target-tls-ca option): cannot connect to k:9093: ",
	}, {
		name: "a name the certificate does not cover",
		err:  &ClusterError{Side: "source", Err: x509.HostnameError{Certificate: &x509.Certificate{}, Host: "127.0.0.2"}},
		want: "source cluster TLS certificate not trusted (its certificate does not name the address used: check the source's bootstrap servers): ",
	}, {
		name: "refused",
		err:  &ClusterError{Side: "source", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}},
		want: "source cluster unreachable: dial tcp: connection refused",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.err.Error()
			assert.Equal(t, tt.want, got[:min(len(got), len(tt.want))])
		})
	}
}
