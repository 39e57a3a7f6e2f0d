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

// The changelog: a compacted topic whose cleaner runs on both clusters after
// MM2 copied it, so the record below a group's committed offset and its copy
// are gone: keys k00..k29 written once before the migration, the app having
// read k00..k09, then k00..k19 written again and fillers until both cleaners
// ran.
const (
	retChangelog     = "ret-changelog"
	retChangelogApp  = "ret-cl-app"
	retChangelogRead = 10 // the app's committed offset: it read k00..k09's first versions
)

var retChangelogConfig = map[string]string{"cleanup.policy": "compact", "segment.ms": "100",
	"min.cleanable.dirty.ratio": "0.01", "min.compaction.lag.ms": "0"}

func changelogMessage(key string, version int) localkafka.Message {
	return localkafka.Message{Key: []byte(key), Value: []byte(fmt.Sprintf("v%d of %s", version, key))}
}

func changelogKey(i int) string { return fmt.Sprintf("k%02d", i) }

// TestRetentionAndCompactionDuringTheMigration: a group committed below the
// source's log start gets no checkpoint from MM2 and the status says only the
// cutover can move it; both cutover phases then succeed with log starts that
// moved on each side at different moments and a changelog compacted on both
// sides after the copy, and consumers on the target read from the written
// offsets exactly what they would read on the source (where a committed
// offset below the log start resumes at the log start): 0 skipped, 0
// replayed; on the changelog, every key's latest value, none already read.
func TestRetentionAndCompactionDuringTheMigration(t *testing.T) {
	begin := time.Now()
	m := newMigration(t, 1, map[string]any{"topics": retTopic + "," + retChangelog, "checkpoint-interval": 5, "sync-group-offsets-interval": 5})
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
	require.NoError(t, m.src.CreateTopic(retChangelog, 1, retChangelogConfig))
	for i := range 30 {
		require.NoError(t, m.src.Send(retChangelog, 0, changelogMessage(changelogKey(i), 1)))
	}
	require.NoError(t, m.src.Commit(retChangelogApp, retChangelog, map[int32]int64{0: retChangelogRead}))

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
			srcCL, err := m.src.EndOffsets(retChangelog)
			if err != nil {
				return false, err
			}
			tgtCL, err := m.tgt.EndOffsets(retChangelog)
			return err == nil && tgtCL[0] == srcCL[0], nil
		}, "MM2 to copy "+what)
		require.NoError(t, err)
	}
	waitEnds("the prefill")
	t.Logf("[%5.1fs] MM2 copied the prefill", time.Since(begin).Seconds())

	t.Run("a group committed below the source's log start is one only the cutover can move", func(t *testing.T) {
		var line string
		err := poll.Until(ctx, 90*time.Second, time.Second, func() (bool, error) {
			line = m.statuses()[m.units()[0]]
			return strings.HasSuffix(line, "; groups 2/3 synced, 1 only by the cutover"), nil
		}, "MM2 to sync ret-above, and the status to name ret-below as the cutover's")
		require.NoError(t, err, "last status: %s", line)
		t.Logf("status: %s", line)
		res, err := m.sim.Run(ctx, "leader", "sync-status", map[string]any{"group": "ret-below"})
		require.NoError(t, err)
		require.False(t, res.Failed, res.Message)
		g := resultIndex(t, res.Results, "groups", "ret-below")
		assert.Equal(t, "true", res.Results[g+"cutover-only"])
		assert.Equal(t, "committed below the source's log start, which MM2 never checkpoints on 1/1 partitions", res.Results[g+"unsynced"])
		assert.Equal(t, "1", res.Results["summary.groups-cutover-only"])
	})

	// Retention after the copy, on each side at its own moment, then more records.
	require.NoError(t, m.src.DeleteRecords(retTopic, retSourceAfter))
	require.NoError(t, m.tgt.DeleteRecords(retTopic, retTargetAfter))
	require.NoError(t, m.src.Produce(retTopic, retMore))
	for i := range 20 {
		require.NoError(t, m.src.Send(retChangelog, 0, changelogMessage(changelogKey(i), 2)))
	}
	filler := 0
	err := poll.Until(ctx, 2*time.Minute, time.Second, func() (bool, error) {
		filler++ // a segment rolls on a record segment.ms after its first: the cleaner needs closed ones
		if err := m.src.Send(retChangelog, 0, changelogMessage(fmt.Sprintf("filler-%03d", filler), 1)); err != nil {
			return false, err
		}
		for _, k := range []*localkafka.Kit{m.src, m.tgt} {
			read, err := k.ReadAll(ctx, retChangelog)
			if err != nil || len(read[0]) == 0 || read[0][0].Key == "k00" {
				return false, nil
			}
		}
		return true, nil
	}, "both clusters' cleaners to compact "+retChangelog+" after the copy")
	require.NoError(t, err)
	waitEnds("the records written after the log starts moved")
	t.Logf("[%5.1fs] log starts moved (source %v, target %v) and MM2 copied %d more records",
		time.Since(begin).Seconds(), retSourceAfter, retTargetAfter, retMore)

	var written map[string][]cutPartition
	t.Run("phase=consumers moves every group", func(t *testing.T) {
		res, err := m.sim.Run(ctx, "leader", "cutover", map[string]any{"phase": "consumers", "groups": "ret-above,ret-below," + retChangelogApp, "timeout": "90s"})
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

	t.Run("a changelog consumer on the target reads every key's latest value from the written offset, none it had read", func(t *testing.T) {
		require.NotNil(t, written, "the consumers phase did not run")
		exact := byPartition(written[retChangelogApp])[0]
		assert.Contains(t, exact.how, "copy of the first record at or after", "the record below and its copy were compacted away")
		read := func(k *localkafka.Kit, from int64) []localkafka.Record {
			end := mustEnds(t, k, retChangelog)[0]
			rs, err := k.ReadCommitted(ctx, retChangelog, 0, from, func(r localkafka.Record) bool { return r.Offset+1 >= end })
			require.NoError(t, err)
			return rs
		}
		onSource, onTarget := read(m.src, retChangelogRead), read(m.tgt, exact.exact)
		latest := func(rs []localkafka.Record) map[string]string {
			out := map[string]string{}
			for _, r := range rs {
				out[r.Key] = r.Value
			}
			return out
		}
		assert.Equal(t, latest(onSource), latest(onTarget), "every key's latest value from the committed position: 0 skipped")
		for _, r := range onTarget {
			var i int
			if _, err := fmt.Sscanf(r.Key, "k%02d", &i); err == nil && i < retChangelogRead && r.Value == string(changelogMessage(r.Key, 1).Value) {
				t.Errorf("%s=%s was read on the source already: replayed", r.Key, r.Value)
			}
		}
		t.Logf("%s: committed %d on the source, exact %d on the target (%s): %d records to read there, %d on the source, the same latest value of %d keys",
			retChangelogApp, retChangelogRead, exact.exact, exact.how, len(onTarget), len(onSource), len(latest(onSource)))
	})

	t.Run("phase=producers proves the copy over the window both sides hold", func(t *testing.T) {
		res, err := m.sim.Run(ctx, "leader", "cutover", map[string]any{"phase": "producers", "timeout": "90s", "quiet-period": "5s"})
		require.NoError(t, err)
		require.False(t, res.Failed, "phase=producers failed: %s\nlogs: %v", res.Message, res.Logs)
		r := res.Results
		k := resultIndex(t, r, "topics", retTopic)
		assert.Equal(t, "latest value per key (compacted)", r[resultIndex(t, r, "topics", retChangelog)+"compared"])
		// Outside the window: the target's copies of source 100-199 on p0
		// (the source removed them after the copy) and the source's 50-79 on
		// p1 (the target removed their copies).
		want := (retSourceAfter[0] - retStartsBefore[0]) + retTargetAfter[1]
		assert.Equal(t, strconv.FormatInt(want, 10), r[k+"outside-window"], "results: %v", r)
		t.Logf("phase=producers: %s; %s compared %s, %s outside the window", r["status"], retTopic, r[k+"compared"], r[k+"outside-window"])
	})
	t.Logf("TestRetentionAndCompactionDuringTheMigration took %s", time.Since(begin).Round(time.Millisecond))
}

// resultIndex is the "<list>.<n>." prefix of the item named name in an
// action's results (topics of the producers phase, groups of sync-status):
// Juju's keys cannot hold names, so lists are keyed by index.
func resultIndex(t *testing.T, r map[string]string, list, name string) string {
	t.Helper()
	for i := 0; ; i++ {
		k := list + "." + strconv.Itoa(i) + "."
		got, ok := r[k+"name"]
		if !ok {
			t.Fatalf("%s %s not in the results %v", list, name, r)
		}
		if got == name {
			return k
		}
	}
}
