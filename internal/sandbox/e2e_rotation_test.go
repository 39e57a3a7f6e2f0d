package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/mm2"
)

// TestCredentialRotationRestartsMM2OncePerUnit is issue 11's third scenario: mid-migration, under
// load, the source's provider rotates the relation user's password (on the cluster, then as a new
// revision of the relation's secret, as Charmed Kafka does). Every unit gets secret-changed,
// writes the new password into the secrets file and restarts MM2 exactly once; MM2 goes on with
// the new password; the old one is in no file of any pod; nothing produced is lost.
func TestCredentialRotationRestartsMM2OncePerUnit(t *testing.T) {
	begin := time.Now()
	m := newMigration(t, 2, nil)
	const topic = "rot"
	srcRel := m.mirrorPrefilled(topic, 3, 1500)

	model, err := m.sim.Model(m.ctx)
	require.NoError(t, err)
	var uri string
	for _, r := range model.Relations {
		if r.ID == srcRel {
			uri = r.Data[r.RemoteApp]["secret-user"]
		}
	}
	require.NotEmpty(t, uri, "the source relation's secret-user")
	revs := model.Secrets[uri].Revisions
	content := revs[len(revs)-1]
	oldPassword := content["password"]
	require.NotEmpty(t, oldPassword)

	type unitState struct {
		pid     int
		changes []*client.Change
	}
	snapshot := func() map[string]unitState {
		out := map[string]unitState{}
		for _, u := range m.units() {
			require.Equal(t, client.StatusActive, m.service(u).Current, u)
			out[u] = unitState{pid: m.mm2PID(u), changes: m.serviceChanges(u)}
		}
		return out
	}
	before := snapshot()

	stop := produceInBackground(t, m.ctx, func() error { return m.src.Produce(topic, 30) })
	raw := make([]byte, 12)
	_, err = rand.Read(raw)
	require.NoError(t, err)
	newPassword := "rotated-" + hex.EncodeToString(raw)
	require.NoError(t, m.createUser(m.source)(m.ctx, content["username"], newPassword))
	rotated := maps.Clone(content)
	rotated["password"] = newPassword
	t0 := time.Now()
	require.NoError(t, m.sim.UpdateSecret(m.ctx, uri, rotated))
	t.Logf("[%5.1fs] password rotated; secret-changed handled on every unit in %s", time.Since(begin).Seconds(), time.Since(t0).Round(time.Millisecond))

	after := snapshot()
	for u, b := range before {
		a := after[u]
		assert.Equal(t, []string{"restart Done"}, changesSince(b.changes, a.changes), "%s: one restart for the new password", u)
		assert.NotEqual(t, b.pid, a.pid, "%s: MM2 runs in a new JVM", u)
		secrets, err := os.ReadFile(podFile(m.pod(u), mm2.SecretsPath))
		require.NoError(t, err)
		assert.Contains(t, string(secrets), newPassword, "%s: the secrets file holds the new password", u)
	}

	// MM2 goes on with the new password: what is written after the rotation reaches the target.
	require.NoError(t, m.src.Produce(topic, 300))
	stop()
	m.waitCopied(2*time.Minute, topic)
	records, duplicates := m.assertNoneMissing(t, topic)
	t.Logf("%d records on the source, none missing on the target, %d duplicates (MM2 restarted once per unit)", records, duplicates)

	settled := snapshot()
	for u, st := range m.statuses() {
		assert.True(t, mirroring(st), "%s: %s", u, st)
	}
	again := snapshot()
	for u, s := range settled {
		assert.Equal(t, s.pid, again[u].pid, "%s: update-status restarts nothing", u)
	}

	// The old password is in no file of any pod: the secrets file was rewritten, not appended to.
	for _, u := range m.units() {
		err := filepath.WalkDir(m.pod(u).Dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !d.Type().IsRegular() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			assert.False(t, strings.Contains(string(data), oldPassword), "%s: the old password is still in %s", u, path)
			return nil
		})
		require.NoError(t, err)
	}
	m.assertPrivate(t)
	t.Logf("TestCredentialRotationRestartsMM2OncePerUnit took %s", time.Since(begin).Round(time.Millisecond))
}
