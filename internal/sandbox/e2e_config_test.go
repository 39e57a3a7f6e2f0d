package sandbox

import (
	"os"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/mm2"
)

// TestConfigChangeRestartsOnceOnEveryUnit changes topics-exclude while
// mirroring: every unit re-renders mm2.properties and restarts MM2 exactly
// once (one Pebble change, one new JVM), a following update-status restarts
// nothing, and the new exclusion takes effect: the records of a new topic it
// matches are not mirrored while those of a new topic it does not match are.
func TestConfigChangeRestartsOnceOnEveryUnit(t *testing.T) {
	m := newMigration(t, 2, nil)
	const kept = "cfg-kept"
	m.mirrorPrefilled(kept, 2, 2000)

	type unitState struct {
		props   string
		pid     int
		since   time.Time
		changes []*client.Change
	}
	snapshot := func() map[string]unitState {
		out := map[string]unitState{}
		for _, u := range m.units() {
			props, err := os.ReadFile(podFile(m.pod(u), mm2.PropertiesPath))
			require.NoError(t, err)
			svc := m.service(u)
			require.Equal(t, client.StatusActive, svc.Current, u)
			out[u] = unitState{props: string(props), pid: m.mm2PID(u), since: svc.CurrentSince, changes: m.serviceChanges(u)}
		}
		return out
	}

	before := snapshot()
	require.NoError(t, m.sim.SetConfig(m.ctx, map[string]any{
		"topics-exclude": `.*[\-\.]internal, .*\.replica, __.*, cfg-skipped.*`,
	}))
	changed := snapshot()
	for u, b := range before {
		c := changed[u]
		assert.NotEqual(t, b.props, c.props, "%s: mm2.properties re-rendered", u)
		assert.Contains(t, c.props, `cfg-skipped.*`, "%s: the new exclusion is in mm2.properties", u)
		assert.Equal(t, []string{"restart Done"}, changesSince(b.changes, c.changes), "%s: Pebble changes after the config change", u)
		assert.NotEqual(t, b.pid, c.pid, "%s: MM2 runs in a new JVM", u)
		assert.True(t, c.since.After(b.since), "%s: the service restarted", u)
	}

	for u, st := range m.statuses() {
		assert.True(t, mirroring(st), "%s: %s", u, st)
	}
	settled := snapshot()
	for u, c := range changed {
		s := settled[u]
		assert.Empty(t, changesSince(c.changes, s.changes), "%s: update-status must restart nothing", u)
		assert.Equal(t, c.pid, s.pid, "%s: same JVM after update-status", u)
		assert.True(t, c.since.Equal(s.since), "%s: service not restarted by update-status", u)
		assert.Equal(t, c.props, s.props, "%s: mm2.properties unchanged by update-status", u)
	}

	// The restarted MM2 uses the new exclusion: of two new topics, only the
	// one it does not exclude reaches the target.
	m.createTopic("cfg-skipped-audit", 1)
	m.createTopic("cfg-added", 2)
	m.produceAll(map[string]int{"cfg-skipped-audit": 300, "cfg-added": 300, kept: 1000})
	m.waitCopied(2*time.Minute, "cfg-added", kept)
	m.assertIdentical(t, "cfg-added")
	m.assertIdentical(t, kept)
	admin, err := m.target.NewAdmin(m.target.Admin)
	require.NoError(t, err)
	defer admin.Close()
	topics, err := admin.ListTopics()
	require.NoError(t, err)
	if _, found := topics["cfg-skipped-audit"]; found {
		// Seen with Kafka 3.9: while the workers rebalance after restarting
		// together, a connector instance still on the old filter creates the
		// topic; the tasks, on the new filter, copy nothing into it.
		n, err := m.tgt.Count("cfg-skipped-audit")
		require.NoError(t, err)
		assert.Zero(t, n, "an excluded topic's records must not be mirrored")
		t.Logf("note: MM2 created the excluded topic cfg-skipped-audit on the target, with %d records", n)
	}
}
