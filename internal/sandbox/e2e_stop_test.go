package sandbox

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/jujusim"
)

// checkWindow is how long a stopped MM2 must stay stopped for a check that
// fails while it is stopped to cost the container: the charm's check
// fails after 3 misses 30 s apart, then the kubelet needs 3 failed probes.
const checkWindow = 3*30*time.Second + 3*5*time.Second

// TestStopMigration stops a running migration and holds it stopped through
// the liveness probe's window: MM2 stays down on every unit, the application
// status says so at once and for good, update-status rewrites no peer data,
// no container is restarted, and start-migration resumes where MM2 stopped.
func TestStopMigration(t *testing.T) {
	m := newMigration(t, 2, nil)
	const topic = "stopped-orders"
	m.mirrorPrefilled(topic, 3, 1000)

	_, other := m.leaderAndOther()
	peerEvents := countHookRuns(t, m.sim, other, "cluster-relation-changed")
	for range 3 {
		m.statuses() // update-status everywhere: the leader measures each time
	}
	assert.Equal(t, peerEvents, countHookRuns(t, m.sim, other, "cluster-relation-changed"),
		"the leader's measurements fired peer relation-changed on %s", other)

	res, err := m.sim.Run(m.ctx, "leader", "stop-migration", nil)
	require.NoError(t, err)
	require.False(t, res.Failed, res.Message)
	const stopped = "migration stopped: run start-migration to resume"
	st, err := m.sim.Status(m.ctx)
	require.NoError(t, err)
	assert.Equal(t, "active: "+stopped, st.Status.Name+": "+st.Status.Message, "application status at once")
	require.NoError(t, m.src.Produce(topic, 1000))

	peerEvents = countHookRuns(t, m.sim, other, "cluster-relation-changed")
	rounds := int64(checkWindow/jujusim.JujuLivenessProbe.Period) + 2
	begin := time.Now()
	waitProbeRounds(t, m, rounds, func() {
		for u, got := range m.statuses() {
			assert.Equal(t, "active: "+stopped, got, u)
		}
		st, err := m.sim.Status(m.ctx)
		require.NoError(t, err)
		assert.Equal(t, "active: "+stopped, st.Status.Name+": "+st.Status.Message, "application status")
	})
	t.Logf("held stopped through %d liveness probe rounds (%s)", rounds, time.Since(begin).Round(time.Second))
	assert.Equal(t, peerEvents, countHookRuns(t, m.sim, other, "cluster-relation-changed"),
		"update-status fired peer relation-changed")
	for _, u := range m.units() {
		assert.Equal(t, client.StatusInactive, m.service(u).Current, "%s: MM2 service", u)
		assert.Zero(t, m.mm2PID(u), "%s: no MM2 process may be left", u)
	}
	assert.Empty(t, m.sim.AllRestarts(), "containers restarted while MM2 was stopped")

	m.startMigration()
	m.waitMirroring()
	m.waitCopied(2*time.Minute, topic)
	records, _ := m.assertNoneMissing(t, topic)
	assert.Equal(t, 2000, records)
}

// waitProbeRounds waits until the kubelet has probed every pod n more times,
// running each between polls (every 10 s) to look at the world meanwhile.
func waitProbeRounds(t *testing.T, m *migration, n int64, each func()) {
	t.Helper()
	want := m.sim.KubeletRounds() + n
	period := jujusim.JujuLivenessProbe.Period
	deadline := time.Now().Add(time.Duration(n+10) * period)
	for m.sim.KubeletRounds() < want {
		if time.Now().After(deadline) {
			t.Fatalf("the kubelet made %d rounds of probes, want %d", m.sim.KubeletRounds(), want)
		}
		each()
		time.Sleep(2 * period) // polling, with the deadline above
	}
}

// countHookRuns counts the runs of hook on unit, from the lines the simulator
// writes to its hooks.log before each.
func countHookRuns(t *testing.T, sim *jujusim.Sim, unit, hook string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sim.UnitDir(unit), "hooks.log"))
	require.NoError(t, err)
	re := regexp.MustCompile(`(?m)^=== \S+ ` + regexp.QuoteMeta(hook) + `$`)
	return len(re.FindAllIndex(data, -1))
}
