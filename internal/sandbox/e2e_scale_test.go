package sandbox

import (
	"strings"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/poll"
)

// TestScaleOneToThreeToOneUnderLoad is issue 11's second scenario: mid-migration, with producers
// writing, the application grows from 1 to 3 units and shrinks back to 1, the leader among the
// units removed. Every unit runs MM2 and says so while it is there; the one left leads, with the
// migration and its sync line; nothing produced is lost.
func TestScaleOneToThreeToOneUnderLoad(t *testing.T) {
	step := stepLogger(t)
	m := newMigration(t, 1, map[string]any{"tasks-max": 6})
	const topic = "scale"
	m.mirrorPrefilled(topic, 6, 3000)
	stop := produceInBackground(t, m.ctx, func() error { return m.src.Produce(topic, 30) })

	for range 2 {
		u, err := m.sim.AddUnit(m.ctx)
		require.NoError(t, err)
		step("added %s", u)
	}
	m.waitMirroring()
	require.Len(t, m.units(), 3)
	step("3 units, each running MM2: %v", m.statuses())

	leader, err := m.sim.Leader(m.ctx)
	require.NoError(t, err)
	require.NoError(t, m.sim.RemoveUnit(m.ctx, leader))
	step("removed the leader %s", leader)
	rest := m.units()
	require.Len(t, rest, 2)
	require.NoError(t, m.sim.RemoveUnit(m.ctx, rest[0]))
	step("removed %s", rest[0])
	require.Len(t, m.units(), 1)
	last := m.units()[0]
	newLeader, err := m.sim.Leader(m.ctx)
	require.NoError(t, err)
	assert.Equal(t, last, newLeader, "the unit left leads")
	m.waitMirroring()

	// The one unit left takes over every task: what is written now reaches the target too.
	m.drainAndCompare(step, stop, topic, 8*time.Minute)

	var line string
	err = poll.Until(m.ctx, time.Minute, time.Second, func() (bool, error) {
		line = m.statuses()[last]
		return strings.HasPrefix(line, "active: in sync 1 topics/6 partitions: 0 records behind"), nil
	}, "the new leader's sync line to say in sync")
	require.NoError(t, err, "last: %s", line)
	assert.Equal(t, client.StatusActive, m.service(last).Current)
	step("status: %s", line)
}
