package jujusim

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGivenSecretKeyJujuRefusesWhenAddSecretThenRefusedWithJujusWords holds
// `add-secret` to Juju's content key rule (core/secrets): a key such as "ca"
// (under three characters) fails as `juju add-secret` does, and nothing is
// stored; "tls-ca" is accepted.
func TestGivenSecretKeyJujuRefusesWhenAddSecretThenRefusedWithJujusWords(t *testing.T) {
	sim := newTestSim(t)
	ctx := context.Background()
	require.NoError(t, sim.Deploy(ctx, 1, nil))

	for _, key := range []string{"ca", "tls_ca", "TLS-CA"} {
		uri, err := sim.AddSecret(ctx, map[string]string{"username": "admin", key: "x"})
		assert.EqualError(t, err, `key "`+key+`" not valid`)
		assert.Empty(t, uri)
	}
	m, err := sim.Model(ctx)
	require.NoError(t, err)
	assert.Empty(t, m.Secrets, "nothing stored")

	uri, err := sim.AddSecret(ctx, map[string]string{"username": "admin", "password": "pw", "tls-ca": "PEM"})
	require.NoError(t, err)
	assert.EqualError(t, sim.UpdateSecret(ctx, uri, map[string]string{"ca": "PEM"}), `key "ca" not valid`)
	m, err = sim.Model(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, m.Secret(uri).Revision())
}
