package sandbox

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// restartsGroup is the source group whose offsets the broker-restart test
// proves after the restarts.
const restartsGroup = "rolling-app"

// TestBrokerRestartsOnBothClustersUnderLoad is issue 11's first scenario: both clusters have
// three nodes (replication factor 3, min.insync.replicas 2, MM2's topics too), and mid-migration,
// with producers writing, each target node restarts in turn as a rolling restart does (each
// waiting for every partition back in sync), then each source node, then a target node crashes
// (SIGKILL) and comes back. MM2 rides through every one without a restart; nothing is lost; the
// status says mirroring, with its figures, at every look; the group committed on the
// source is proved and moved by the cutover afterwards.
func TestBrokerRestartsOnBothClustersUnderLoad(t *testing.T) {
	step := stepLogger(t)
	m := newMigrationOf(t, 1, map[string]any{"replication-factor": 3, "internal-replication-factor": 3},
		func(o *localkafka.ClusterOptions) { o.Nodes = 3 })
	const topic = "rolling"
	m.mirrorPrefilled(topic, 6, 3000)
	require.NoError(t, m.src.Commit(restartsGroup, topic, map[int32]int64{0: 200, 1: 300, 2: 400, 3: 100, 4: 0, 5: 500}))
	unit := m.units()[0]
	pid := m.mm2PID(unit)
	changes := m.serviceChanges(unit)
	step("mirroring on 3-node clusters: %v", m.statuses())

	stop := produceInBackground(t, m.ctx, func() error { return m.src.Produce(topic, 30) })
	seen := map[string]int{} // every status line looked at, and how often
	look := func() {
		for _, st := range m.statuses() {
			seen[st]++
		}
	}
	for _, r := range []struct {
		side string
		c    *localkafka.Cluster
		node int
		sig  syscall.Signal
	}{
		{"target", m.target, 1, syscall.SIGTERM}, {"target", m.target, 2, syscall.SIGTERM}, {"target", m.target, 3, syscall.SIGTERM},
		{"source", m.source, 1, syscall.SIGTERM}, {"source", m.source, 2, syscall.SIGTERM}, {"source", m.source, 3, syscall.SIGTERM},
		{"target", m.target, 2, syscall.SIGKILL},
	} {
		before := m.src.Produced(topic)
		require.NoError(t, r.c.RestartNode(m.ctx, r.node, r.sig))
		look()
		step("%s node %d restarted (%s), %d records produced meanwhile", r.side, r.node, r.sig, m.src.Produced(topic)-before)
	}
	m.drainAndCompare(step, stop, topic, 4*time.Minute)

	// Whether MM2 synced the group depends on where its first offset sync of each partition
	// landed (see README: a pending sync is replaced under load); the cutover proves the group
	// either way.
	var line string
	err := poll.Until(m.ctx, 2*time.Minute, time.Second, func() (bool, error) {
		line = m.statuses()[unit]
		seen[line]++
		return strings.HasPrefix(line, "active: in sync 1 topics/6 partitions: 0 records behind; groups "), nil
	}, "the status to say in sync")
	require.NoError(t, err, "last: %s", line)
	for st, n := range seen {
		t.Logf("status seen %d times: %s", n, st)
		assert.True(t, mirroring(st), "a status that is not mirroring: %s", st)
	}
	assert.Equal(t, pid, m.mm2PID(unit), "MM2 rode through the restarts in the same JVM")
	assert.Empty(t, changesSince(changes, m.serviceChanges(unit)), "Pebble restarted nothing")

	res, err := m.sim.Run(m.ctx, "leader", "cutover", map[string]any{"phase": "consumers", "groups": restartsGroup, "timeout": "90s"})
	require.NoError(t, err)
	require.False(t, res.Failed, "phase=consumers failed: %s\nlogs: %v", res.Message, res.Logs)
	got, err := m.tgt.GroupOffsets(restartsGroup, topic, 6)
	require.NoError(t, err)
	assert.Equal(t, map[int32]int64{0: 200, 1: 300, 2: 400, 3: 100, 4: 0, 5: 500}, got,
		"the group on the target at the copies of its committed records (the prefill copied 1:1)")
	step("phase=consumers: %s", res.Results["status"])
}
