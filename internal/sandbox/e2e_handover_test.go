package sandbox

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/jujusim"
)

// actionOutcome is what a `juju run` started in the background came to.
type actionOutcome struct {
	res jujusim.ActionResult
	err error
}

// runInBackground starts `juju run unit action` and returns where its outcome arrives.
func (m *migration) runInBackground(unit, action string, params map[string]any) <-chan actionOutcome {
	out := make(chan actionOutcome, 1)
	go func() {
		res, err := m.sim.Run(m.ctx, unit, action, params)
		out <- actionOutcome{res, err}
	}()
	return out
}

// waitActionLog waits until the action running on unit has logged a line containing want.
func (m *migration) waitActionLog(unit, action, want string) {
	m.t.Helper()
	var logs []string
	err := poll.Until(m.ctx, 2*time.Minute, 100*time.Millisecond, func() (bool, error) {
		model, err := m.sim.Model(m.ctx)
		if err != nil {
			return false, err
		}
		a := model.Action
		if a == nil || !a.Running || a.Unit != unit || a.Name != action {
			return false, nil
		}
		logs = a.Logs
		return slices.ContainsFunc(a.Logs, func(l string) bool { return strings.Contains(l, want) }), nil
	}, action+" on "+unit+" to log "+want)
	require.NoError(m.t, err, "logs so far: %v", logs)
}

// TestLeaderChangeAndStopMigrationDuringCutover is issue 11's fifth scenario. Leadership moves
// to the other unit while the leader's cutover phase=consumers has written the groups: each
// group on the target holds all its exact offsets or none, the action fails saying which it
// wrote and to run it again on the leader, and that run finishes the job. Then stop-migration
// is asked while a cutover phase=producers waits for the source to go quiet: Juju queues it
// behind the cutover, which fails on its timeout having stopped nothing; stop-migration then
// stops MM2 everywhere, start-migration resumes it, and the next cutover completes and proves
// the copy.
func TestLeaderChangeAndStopMigrationDuringCutover(t *testing.T) {
	step := stepLogger(t)
	m := newMigration(t, 2, nil)
	const topic = "handover"
	m.mirrorPrefilled(topic, 3, 1500)
	groups := map[string]map[int32]int64{"ho-a": {0: 100, 1: 200, 2: 300}, "ho-b": {0: 499, 1: 1, 2: 250}}
	for g, offsets := range groups {
		require.NoError(t, m.src.Commit(g, topic, offsets))
	}
	leader, other := m.leaderAndOther()

	t.Run("leadership moves during phase=consumers; the new leader's run finishes the job", func(t *testing.T) {
		done := m.runInBackground(leader, "cutover", map[string]any{"phase": "consumers", "groups": "ho-a,ho-b", "timeout": "90s"})
		m.waitActionLog(leader, "cutover", "exact offsets written to the target")
		require.NoError(t, m.sim.MoveLeadership(m.ctx, other))
		step("leadership moved from %s to %s after the first group was written", leader, other)
		out := <-done
		require.NoError(t, out.err)
		require.True(t, out.res.Failed, "the old leader cannot record the groups it moved")
		assert.Contains(t, out.res.Message, "leadership moved to another unit while cutover ran")
		step("the old leader's cutover: %s", out.res.Message)
		for g, want := range groups {
			got, err := m.tgt.GroupOffsets(g, topic, 3)
			require.NoError(t, err)
			none := !slices.ContainsFunc(slices.Collect(maps.Values(got)), func(o int64) bool { return o >= 0 })
			assert.True(t, none || assert.ObjectsAreEqual(want, got), "group %s half written on the target: %v", g, got)
		}

		res, err := m.sim.Run(m.ctx, "leader", "cutover", map[string]any{"phase": "consumers", "groups": "ho-a,ho-b", "timeout": "90s"})
		require.NoError(t, err)
		require.False(t, res.Failed, "the new leader's cutover: %s\nlogs: %v", res.Message, res.Logs)
		assert.Equal(t, "exact offsets written for 2 group(s): start their consumers on the target", res.Results["status"])
		for g, want := range groups {
			got, err := m.tgt.GroupOffsets(g, topic, 3)
			require.NoError(t, err)
			assert.Equal(t, want, got, "group %s on the target (the prefill was copied 1:1)", g)
		}
		step("the new leader %s moved both groups", other)
	})

	t.Run("stop-migration waits for a running cutover; the next cutover completes", func(t *testing.T) {
		stopProducing := produceInBackground(t, m.ctx, func() error { return m.src.Produce(topic, 30) })
		cut := m.runInBackground("leader", "cutover", map[string]any{"phase": "producers", "timeout": "20s", "quiet-period": "5s"})
		m.waitActionLog(other, "cutover", "waiting: the source is still written to")
		stopped := m.runInBackground("leader", "stop-migration", nil)
		out := <-cut
		require.NoError(t, out.err)
		require.True(t, out.res.Failed, "the source never went quiet")
		assert.Contains(t, out.res.Message, "producers cannot move yet after 20s: the source is still written to")
		stopProducing()
		st := <-stopped
		require.NoError(t, st.err)
		require.False(t, st.res.Failed, st.res.Message)
		assert.Equal(t, "stopped: MirrorMaker 2 stops on all 2 units; nothing was deleted, start-migration resumes", st.res.Results["status"])
		step("stop-migration ran after the cutover gave up: %s", st.res.Results["status"])
		for _, u := range m.units() {
			assert.Zero(t, m.mm2PID(u), "%s: MM2 still runs after stop-migration", u)
		}

		m.startMigration()
		m.waitMirroring()
		m.waitCopied(2*time.Minute, topic)
		res, err := m.sim.Run(m.ctx, "leader", "cutover", map[string]any{"phase": "producers", "timeout": "2m", "quiet-period": "5s"})
		require.NoError(t, err)
		require.False(t, res.Failed, "the next cutover: %s\nlogs: %v", res.Message, res.Logs)
		assert.True(t, strings.HasPrefix(res.Results["status"], "cutover complete: "), res.Results["status"])
		records, duplicates := m.assertNoneMissing(t, topic)
		step("next cutover: %s; %d records, none missing, %d duplicates", res.Results["status"], records, duplicates)
	})
}
