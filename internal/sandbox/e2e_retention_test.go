package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// Retention on both sides, with real MM2 and the shipped charm: records
// deleted on the source before the migration starts (DeleteRecords, as
// retention or an operator does), then, once MM2 has copied, the source's
// log start moving past a group's committed offset and the target's
// retention removing the oldest copies of another partition at its own
// moment.
const (
	retTopic   = "ret"
	retPrefill = 600 // 300 records per partition
	retMore    = 200 // written after the log starts moved
)

var (
	// retStartsBefore are the source log starts set before MM2 starts: MM2
	// copies from there, so target offset 0 is source retStartsBefore[p].
	retStartsBefore = map[int32]int64{0: 100, 1: 50}
	// retSourceAfter moves partition 0's source log start past
	// ret-above's committed offset once MM2 has copied it.
	retSourceAfter = map[int32]int64{0: 200}
	// retTargetAfter removes the target's first 30 copies of partition 1
	// (source records 50 to 79), below every group's position there.
	retTargetAfter = map[int32]int64{1: 30}
)

// TestRetentionMovingLogStartsDuringTheMigration: a group committed below
// the source's log start gets no checkpoint from MM2 and the status says only
// the cutover can move it; both cutover phases then succeed with log starts
// that moved on each side at different moments, and consumers on the target
// read from the written offsets exactly what they would read on the source
// (where a committed offset below the log start resumes at the log start):
// 0 skipped, 0 replayed.
func TestRetentionMovingLogStartsDuringTheMigration(t *testing.T) {
	begin := time.Now()
	m := newMigration(t, 1, map[string]any{"topics": retTopic, "checkpoint-interval": 5, "sync-group-offsets-interval": 5})
	ctx := m.ctx
	m.createTopic(retTopic, 2)
	require.NoError(t, m.src.Produce(retTopic, retPrefill))
	require.NoError(t, m.src.DeleteRecords(retTopic, retStartsBefore))
	groups := map[string]map[int32]int64{
		"ret-above": {0: 150, 1: 120}, // above the log starts when MM2 starts; p0 falls below later
		"ret-below": {0: 40},          // below the log start from the beginning
	}
	for g, offsets := range groups {
		require.NoError(t, m.src.Commit(g, retTopic, offsets))
	}

	m.relate("source")
	m.relate("target")
	m.startMigration()
	m.waitMirroring()
	waitEnds := func(what string) {
		err := poll.Until(ctx, 2*time.Minute, time.Second, func() (bool, error) {
			src, err := m.src.EndOffsets(retTopic)
			if err != nil {
				return false, err
			}
			tgt, err := m.tgt.EndOffsets(retTopic)
			if err != nil {
				return false, nil // not created yet
			}
			for p, start := range retStartsBefore {
				if tgt[p] != src[p]-start {
					return false, nil
				}
			}
			return true, nil
		}, "MM2 to copy "+what)
		require.NoError(t, err)
	}
	waitEnds("the prefill")
	t.Logf("[%5.1fs] MM2 copied the prefill", time.Since(begin).Seconds())

	t.Run("a group committed below the source's log start is one only the cutover can move", func(t *testing.T) {
		var line string
		err := poll.Until(ctx, 90*time.Second, time.Second, func() (bool, error) {
			line = m.statuses()[m.units()[0]]
			return strings.HasSuffix(line, "; groups 1/2 synced, 1 only by the cutover"), nil
		}, "MM2 to sync ret-above, and the status to name ret-below as the cutover's")
		require.NoError(t, err, "last status: %s", line)
		t.Logf("status: %s", line)
		res, err := m.sim.Run(ctx, "leader", "sync-status", map[string]any{"group": "ret-below"})
		require.NoError(t, err)
		require.False(t, res.Failed, res.Message)
		g := groupIndex(t, res.Results, "ret-below")
		assert.Equal(t, "true", res.Results[g+"cutover-only"])
		assert.Equal(t, "committed below the source's log start, which MM2 never checkpoints on 1/1 partitions", res.Results[g+"unsynced"])
		assert.Equal(t, "1", res.Results["summary.groups-cutover-only"])
	})

	// Retention after the copy, on each side at its own moment, then more records.
	require.NoError(t, m.src.DeleteRecords(retTopic, retSourceAfter))
	require.NoError(t, m.tgt.DeleteRecords(retTopic, retTargetAfter))
	require.NoError(t, m.src.Produce(retTopic, retMore))
	waitEnds("the records written after the log starts moved")
	t.Logf("[%5.1fs] log starts moved (source %v, target %v) and MM2 copied %d more records",
		time.Since(begin).Seconds(), retSourceAfter, retTargetAfter, retMore)

	var written map[string][]cutPartition
	t.Run("phase=consumers moves both groups", func(t *testing.T) {
		res, err := m.sim.Run(ctx, "leader", "cutover", map[string]any{"phase": "consumers", "groups": "ret-above,ret-below", "timeout": "90s"})
		require.NoError(t, err)
		require.False(t, res.Failed, "phase=consumers failed: %s\nlogs: %v", res.Message, res.Logs)
		written = consumerPhaseResults(t, res.Results)
		for g, ps := range written {
			for _, p := range ps {
				t.Logf("%s %s/%d: source committed %d, MM2's translation %d, exact %d (%s)", g, p.topic, p.partition, p.committed, p.mm2, p.exact, p.how)
			}
		}
		// Below the source's log start, a source consumer resumes at the log
		// start (auto.offset.reset=earliest): on the target, at its copy.
		p0 := retSourceAfter[0] - retStartsBefore[0]
		assert.Equal(t, p0, byPartition(written["ret-above"])[0].exact)
		assert.Equal(t, p0, byPartition(written["ret-below"])[0].exact)
		assert.Equal(t, groups["ret-above"][1]-retStartsBefore[1], byPartition(written["ret-above"])[1].exact)
	})

	t.Run("consumers on the target read what they would on the source: 0 skipped, 0 replayed", func(t *testing.T) {
		require.NotNil(t, written, "the consumers phase did not run")
		starts := map[int32]int64{0: retSourceAfter[0], 1: retStartsBefore[1]}
		for g, offsets := range groups {
			ends := mustEnds(t, m.tgt, retTopic)
			gc, err := m.tgt.StartConsumer(ctx, g, retTopic)
			require.NoError(t, err)
			err = poll.Until(ctx, 60*time.Second, 200*time.Millisecond, func() (bool, error) {
				last := lastOffsets(gc.Read()[retTopic])
				for p := range offsets {
					if l, ok := last[p]; !ok || l+1 < ends[p] {
						return false, nil
					}
				}
				return true, nil
			}, g+" on the target to read to the end")
			require.NoError(t, gc.Stop())
			require.NoError(t, err)
			for p, committed := range offsets {
				where := fmt.Sprintf("%s %s/%d", g, retTopic, p)
				got := gc.Read()[retTopic][p]
				srcEnd := mustEnds(t, m.src, retTopic)[p]
				want, err := m.src.ReadCommitted(ctx, retTopic, p, max(committed, starts[p]),
					func(r localkafka.Record) bool { return r.Offset+1 >= srcEnd })
				require.NoError(t, err, where)
				require.Len(t, got, len(want), "%s: records read on the target and on the source from the committed offset", where)
				for i := range got {
					if !sameRecord(got[i], want[i]) {
						t.Fatalf("%s: record %d differs:\n source %s\n target %s", where, i, describeRecord(want[i]), describeRecord(got[i]))
					}
				}
				t.Logf("%s: %d records read on the target, the same as on the source from %d", where, len(got), max(committed, starts[p]))
			}
		}
	})

	t.Run("phase=producers proves the copy over the window both sides hold", func(t *testing.T) {
		res, err := m.sim.Run(ctx, "leader", "cutover", map[string]any{"phase": "producers", "timeout": "90s", "quiet-period": "5s"})
		require.NoError(t, err)
		require.False(t, res.Failed, "phase=producers failed: %s\nlogs: %v", res.Message, res.Logs)
		r := res.Results
		k := "topics.0."
		require.Equal(t, retTopic, r[k+"name"])
		// Outside the window: the target's copies of source 100-199 on p0
		// (the source removed them after the copy) and the source's 50-79 on
		// p1 (the target removed their copies).
		want := (retSourceAfter[0] - retStartsBefore[0]) + retTargetAfter[1]
		assert.Equal(t, strconv.FormatInt(want, 10), r[k+"outside-window"], "results: %v", r)
		t.Logf("phase=producers: %s; %s compared %s, %s outside the window", r["status"], retTopic, r[k+"compared"], r[k+"outside-window"])
	})
	t.Logf("TestRetentionMovingLogStartsDuringTheMigration took %s", time.Since(begin).Round(time.Millisecond))
}

// groupIndex is the "groups.<n>." prefix of group in sync-status results.
func groupIndex(t *testing.T, r map[string]string, group string) string {
	t.Helper()
	for i := 0; ; i++ {
		k := "groups." + strconv.Itoa(i) + "."
		name, ok := r[k+"name"]
		if !ok {
			t.Fatalf("group %s not in the results %v", group, r)
		}
		if name == group {
			return k
		}
	}
}
