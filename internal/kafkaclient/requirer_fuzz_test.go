package kafkaclient

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParse reads arbitrary provider answers, with the user's fields in the databag or in a
// secret: either the credentials come back exactly as the provider gave them, with usable
// endpoints, or Parse says "not ready" or names the field at fault, never with the password in
// its message (it goes to the unit's status).
func FuzzParse(f *testing.F) {
	f.Add("10.0.0.1:9092,10.0.0.2:9092", "relation-7", "s3cret", "disabled", "", false)
	f.Add("k:9092", "u", "p", "enabled", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", true)
	f.Add("k:9092", "u", "p", "enabled", "enabled", true)
	f.Add("[::1]:9092, host:65535,", "user", "pass word", "true", "", true)
	f.Add("host", "u", "p", "maybe", "", false)
	f.Add("h:0", "u", "hunter2hunter2", "", "", false)
	f.Add("", "u", "p", "", "", true)
	f.Fuzz(func(t *testing.T, endpoints, username, password, tls, ca string, inSecret bool) {
		parse := func(password string) (Credentials, error) {
			data := map[string]string{"endpoints": endpoints, "tls": tls, "tls-ca": ca}
			secret := map[string]string{}
			if inSecret {
				data["secret-user"] = "secret:user"
				secret["username"], secret["password"] = username, password
			} else {
				data["username"], data["password"] = username, password
			}
			return Parse(data, func(uri string) (map[string]string, error) {
				require.Equal(t, "secret:user", uri)
				return secret, nil
			})
		}
		c, err := parse(password)
		if err != nil {
			var de *DataError
			switch {
			case errors.Is(err, ErrNotReady):
				require.True(t, username == "" || password == "" || endpoints == "", "not ready with everything given: %v", err)
			case errors.As(err, &de):
				require.Contains(t, []string{"endpoints", "tls"}, de.Field)
			default:
				t.Fatalf("neither not-ready nor a data error: %v", err)
			}
			// The message goes to the unit's status: it must not depend on the password at all.
			other := strings.Repeat("x", len(password))
			if other == password {
				other = strings.Repeat("y", len(password))
			}
			_, err2 := parse(other)
			require.Error(t, err2)
			require.Equal(t, err.Error(), err2.Error(), "the message depends on the password")
			return
		}
		require.Equal(t, username, c.Username)
		require.Equal(t, password, c.Password)
		require.NotEmpty(t, c.Endpoints)
		for _, e := range c.Endpoints {
			_, err := ParseEndpoints(e)
			require.NoError(t, err, "an endpoint a client could not use: %q", e)
		}
		require.Equal(t, tls == "enabled" || tls == "true", c.TLS)
		if c.CA != "" {
			require.True(t, c.TLS && IsPEM(c.CA))
		}
	})
}
