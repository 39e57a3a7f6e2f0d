package sandbox

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/poll"
)

// TestFrozenSourceDoesNotHoldTheLeaderHook freezes the source broker while
// MM2 mirrors (SIGSTOP: its port still accepts connections, nothing answers,
// as with a hung JVM or a black-holed host). The leader's update-status must
// return within 15 s, since Juju runs a unit's hooks one at a time, and say
// the source is unreachable; once the broker thaws, the figures come back.
func TestFrozenSourceDoesNotHoldTheLeaderHook(t *testing.T) {
	m := newMigration(t, 1, nil)
	const topic = "frozen-orders"
	m.mirrorPrefilled(topic, 3, 300)
	leader, _ := m.leaderAndOther()

	require.NoError(t, m.source.Freeze())
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			assert.NoError(t, m.source.Thaw())
		}
	}
	t.Cleanup(thaw)
	begin := time.Now()
	st := m.statuses()
	took := time.Since(begin)
	t.Logf("update-status with the source frozen took %s: %s", took.Round(time.Millisecond), st[leader])
	assert.Less(t, took, 15*time.Second, "the leader's hook waited on a frozen source")
	assert.True(t, strings.HasPrefix(st[leader], "waiting: source cluster unreachable: "), st[leader])

	thaw()
	var last map[string]string
	err := poll.Until(m.ctx, 2*time.Minute, time.Second, func() (bool, error) {
		last = m.statuses()
		return strings.HasPrefix(last[leader], "active: in sync ") || strings.HasPrefix(last[leader], "active: mirroring "), nil
	}, "the leader's figures after the source thaws")
	require.NoError(t, err, "statuses: %v", last)
}
