package kafkaclient

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testCA = `-----BEGIN CERTIFICATE-----
MIIBhTCCASugAwIBAgIUQ0m0G7X6cL1jGk1p0vYzJb8kJ0kwCgYIKoZIzj0EAwIw
EDEOMAwGA1UEAwwFdGVzdGMwHhcNMjQwMTAxMDAwMDAwWhcNMzQwMTAxMDAwMDAw
WjAQMQ4wDAYDVQQDDAV0ZXN0YzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFJ0
-----END CERTIFICATE-----
`

func secrets(m map[string]map[string]string) SecretGetter {
	return func(uri string) (map[string]string, error) {
		c, ok := m[uri]
		if !ok {
			return nil, errors.New("secret not found")
		}
		return c, nil
	}
}

func TestParse(t *testing.T) {
	store := secrets(map[string]map[string]string{
		"secret:user": {"username": "relation-7", "password": "s3cret"},
		"secret:tls":  {"tls": "enabled", "tls-ca": testCA},
		"secret:bug":  {"tls": "enabled", "tls-ca": "enabled"},
	})
	tests := []struct {
		name    string
		data    map[string]string
		want    Credentials
		wantErr string
		notYet  bool
	}{{
		name: "secrets",
		data: map[string]string{"endpoints": "k-0.k:9092,k-1.k:9092", "secret-user": "secret:user"},
		want: Credentials{Endpoints: []string{"k-0.k:9092", "k-1.k:9092"}, Username: "relation-7", Password: "s3cret"},
	}, {
		name: "plain fields of an old provider",
		data: map[string]string{"endpoints": "10.0.0.1:9092", "username": "u", "password": "p", "tls": "disabled"},
		want: Credentials{Endpoints: []string{"10.0.0.1:9092"}, Username: "u", Password: "p"},
	}, {
		name: "secret wins over a stale plain field",
		data: map[string]string{"endpoints": "h:9092", "username": "old", "password": "old", "secret-user": "secret:user"},
		want: Credentials{Endpoints: []string{"h:9092"}, Username: "relation-7", Password: "s3cret"},
	}, {
		name: "tls secret with a PEM",
		data: map[string]string{"endpoints": "h:9093", "secret-user": "secret:user", "secret-tls": "secret:tls"},
		want: Credentials{Endpoints: []string{"h:9093"}, Username: "relation-7", Password: "s3cret", TLS: true, CA: testCA},
	}, {
		name: "tls-ca holding the word enabled is ignored with a warning",
		data: map[string]string{"endpoints": "h:9093", "secret-user": "secret:user", "secret-tls": "secret:bug"},
		want: Credentials{Endpoints: []string{"h:9093"}, Username: "relation-7", Password: "s3cret", TLS: true,
			Warning: "tls-ca is not a PEM certificate; using the default trust store"},
	}, {
		name: "tls-ca of a provider without TLS means nothing",
		data: map[string]string{"endpoints": "h:9092", "secret-user": "secret:user", "tls": "disabled", "tls-ca": "disabled"},
		want: Credentials{Endpoints: []string{"h:9092"}, Username: "relation-7", Password: "s3cret"},
	}, {
		name:   "nothing yet",
		data:   map[string]string{},
		notYet: true,
	}, {
		name:   "user but no endpoints yet",
		data:   map[string]string{"secret-user": "secret:user"},
		notYet: true,
	}, {
		name:    "malformed endpoints",
		data:    map[string]string{"endpoints": "broker-without-port", "username": "u", "password": "p"},
		wantErr: `invalid endpoints: "broker-without-port" is not host:port`,
	}, {
		name:    "bad port",
		data:    map[string]string{"endpoints": "h:99999", "username": "u", "password": "p"},
		wantErr: `invalid endpoints: "h:99999" has no valid port`,
	}, {
		name:    "unknown tls flag",
		data:    map[string]string{"endpoints": "h:1", "username": "u", "password": "p", "tls": "maybe"},
		wantErr: `invalid tls: want enabled or disabled, got "maybe"`,
	}, {
		name:    "unreadable secret",
		data:    map[string]string{"secret-user": "secret:gone"},
		wantErr: "cannot read secret-user secret: secret not found",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.data, store)
			switch {
			case tt.notYet:
				require.ErrorIs(t, err, ErrNotReady)
			case tt.wantErr != "":
				require.EqualError(t, err, tt.wantErr)
				assert.NotContains(t, err.Error(), "s3cret")
			default:
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

func TestRequestRoundTrip(t *testing.T) {
	req := Request()
	assert.True(t, RequestCurrent(req))
	assert.NotEqual(t, "", req["topic"])
	assert.NotContains(t, req["topic"], "*")
	damaged := Request()
	damaged["requested-secrets"] = "[username"
	assert.False(t, RequestCurrent(damaged))
	assert.False(t, RequestCurrent(map[string]string{}))
}
