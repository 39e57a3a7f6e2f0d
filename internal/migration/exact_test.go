package migration

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/mm2/mm2test"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exactCase is one partition of "orders" (target "old.orders") with group
// "g" committed at c on the source.
type exactCase struct {
	name string
	// readCommitted is the flow's MM2 isolation.
	readCommitted bool
	// source and target logs: start offset, records (gaps are markers or
	// compacted records), aborted offsets.
	srcStart, srcEnd int64 // srcEnd -1: one past the last record
	src              []kafka.Record
	aborted          []int64
	tgtStart, tgtEnd int64
	tgt              []kafka.Record
	tgtAborted       []int64
	c                int64
	// checkpoint upstream and downstream, -1 for none; progress is MM2's
	// Connect offset, -1 for none.
	cpUp, cpDown, progress int64
	// progressUnreadable makes the Connect offsets topic unreadable.
	progressUnreadable bool
	limit              ScanLimit
	// compacted makes the source topic compacted; appendTime makes the
	// target topic stamp LogAppendTime.
	compacted, appendTime bool

	exact, replays, anchor, anchorCopy int64
	how                                string
	err                                string
}

// dense names records a0, a1, ... for offsets [from, to).
func dense(from, to int64) []kafka.Record {
	var names []string
	for i := from; i < to; i++ {
		names = append(names, "a"+strconv.FormatInt(int64(i), 10))
	}
	return recs(from, names...)
}

// copies puts records named names at target offsets starting at from,
// skipping the offsets in markers.
func copies(from int64, markers []int64, names ...string) []kafka.Record {
	skip := map[int64]bool{}
	for _, m := range markers {
		skip[m] = true
	}
	var out []kafka.Record
	off := from
	for _, n := range names {
		for skip[off] {
			off++
		}
		out = append(out, rec(off, n))
		off++
	}
	return out
}

func names(from, to int64) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, "a"+strconv.FormatInt(int64(i), 10))
	}
	return out
}

func join[T any](parts ...[]T) []T {
	var out []T
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func exactCases() []exactCase {
	return []exactCase{{
		name: "plain log: coarse checkpoint 3 becomes 7, 4 replays avoided",
		src:  dense(0, 10), tgt: dense(0, 10), srcEnd: -1, tgtEnd: -1,
		c: 7, cpUp: 7, cpDown: 3, progress: 9,
		exact: 7, replays: 4, anchor: 6, anchorCopy: 6, how: "copy of the last record below",
	}, {
		name: "exactly-once MM2: markers on the target occupy offsets, replays count records",
		src:  dense(0, 10), srcEnd: -1, tgtEnd: -1,
		// a0 a1 M a2 a3 M a4 a5 M a6 a7 M a8 a9 M
		tgt: copies(0, []int64{2, 5, 8, 11}, names(0, 10)...), tgtStart: 0,
		c: 7, cpUp: 7, cpDown: 4, progress: 9,
		exact: 10, replays: 4, anchor: 6, anchorCopy: 9, how: "copy of the last record below",
	}, {
		name: "transactional source, committed at the log end: the last record, not the marker, is the anchor",
		// a0 a1 M a3 M a5 M(6), end 7
		src: []kafka.Record{rec(0, "a0"), rec(1, "a1"), rec(3, "a3"), rec(5, "a5")}, srcEnd: 7, tgtEnd: -1,
		tgt: recs(0, "a0", "a1", "a3", "a5"),
		c:   7, cpUp: 7, cpDown: 3, progress: 5,
		exact: 4, replays: 1, anchor: 5, anchorCopy: 3, how: "copy of the last record below",
	}, {
		name: "compaction gap below the committed offset",
		src:  []kafka.Record{rec(0, "a0"), rec(1, "a1"), rec(2, "a2"), rec(5, "a5"), rec(9, "a9")}, srcEnd: 10, tgtEnd: -1,
		tgt: recs(0, "a0", "a1", "a2", "a5", "a9"),
		c:   8, cpUp: 8, cpDown: 3, progress: 9,
		exact: 4, replays: 1, anchor: 5, anchorCopy: 3, how: "copy of the last record below",
	}, {
		name: "long compaction gap: the window grows down to the record",
		src:  join(dense(0, 10), dense(300, 310)), srcEnd: -1, tgtEnd: -1,
		tgt: recs(0, join(names(0, 10), names(300, 310))...),
		c:   250, cpUp: 250, cpDown: 6, progress: 309,
		exact: 10, replays: 4, anchor: 9, anchorCopy: 9, how: "copy of the last record below",
	}, {
		name: "aborted transaction below C, read_committed MM2: aborted records have no copy",
		// a0, x1 x2 aborted, abort marker 3, a4
		readCommitted: true,
		src:           []kafka.Record{rec(0, "a0"), rec(1, "x1"), rec(2, "x2"), rec(4, "a4")}, aborted: []int64{1, 2}, srcEnd: -1, tgtEnd: -1,
		tgt: recs(0, "a0", "a4"),
		c:   4, cpUp: 4, cpDown: 1, progress: 4,
		exact: 1, replays: 0, anchor: 0, anchorCopy: 0, how: "copy of the last record below",
	}, {
		name: "aborted transaction below C, read_uncommitted MM2: it copied them",
		src:  []kafka.Record{rec(0, "a0"), rec(1, "x1"), rec(2, "x2"), rec(4, "a4")}, aborted: []int64{1, 2}, srcEnd: -1, tgtEnd: -1,
		tgt: recs(0, "a0", "x1", "x2", "a4"),
		c:   4, cpUp: 4, cpDown: 1, progress: 4,
		exact: 3, replays: 2, anchor: 2, anchorCopy: 2, how: "copy of the last record below",
	}, {
		name: "MM2 already exact, a marker just before its offset",
		src:  dense(0, 10), srcEnd: -1, tgtEnd: -1,
		tgt: copies(0, []int64{7}, names(0, 10)...),
		c:   7, cpUp: 7, cpDown: 8, progress: 9,
		exact: 7, replays: 0, anchor: 6, anchorCopy: 6, how: "copy of the last record below",
	}, {
		name: "duplicates from an MM2 restart: the first copy at or after the checkpoint's floor",
		src:  dense(0, 6), srcEnd: -1, tgtEnd: -1,
		tgt: recs(0, "a0", "a1", "a2", "a3", "a2", "a3", "a4", "a5"),
		c:   4, cpUp: 4, cpDown: 2, progress: 5,
		exact: 4, replays: 2, anchor: 3, anchorCopy: 3, how: "copy of the last record below",
	}, {
		name: "nothing consumed: the first record's copy",
		src:  dense(0, 5), srcEnd: -1, tgtEnd: -1, tgt: dense(0, 5),
		c: 0, cpUp: 0, cpDown: 0, progress: 4,
		exact: 0, replays: 0, anchor: 0, anchorCopy: 0, how: "copy of the first record at or after",
	}, {
		name:     "committed below the log start: the first record left, copied before retention removed the rest",
		srcStart: 5, src: dense(5, 10), srcEnd: -1, tgtEnd: -1, tgt: dense(0, 10),
		c: 2, cpUp: -1, cpDown: -1, progress: 9,
		exact: 5, replays: -1, anchor: 5, anchorCopy: 5, how: "copy of the first record at or after",
	}, {
		name: "nothing consumed, nothing copied yet: the target's end",
		src:  dense(0, 5), srcEnd: -1, tgtStart: 0, tgtEnd: 0,
		c: 0, cpUp: -1, cpDown: -1, progress: -1,
		exact: 0, replays: -1, anchor: 0, anchorCopy: -1, how: "target end: source record not copied yet",
	}, {
		name:     "source holds no record (retention removed all): the target's end",
		srcStart: 5, srcEnd: 5, tgt: dense(0, 5), tgtEnd: -1,
		c: 5, cpUp: 5, cpDown: 5, progress: 4,
		exact: 5, replays: 0, anchor: -1, anchorCopy: -1, how: "target end: source holds no record",
	}, {
		name: "group rewound after MM2's checkpoint: the checkpoint bounds nothing",
		src:  dense(0, 10), srcEnd: -1, tgt: dense(0, 10), tgtEnd: -1,
		c: 5, cpUp: 9, cpDown: 9, progress: 9,
		exact: 5, replays: -1, anchor: 4, anchorCopy: 4, how: "copy of the last record below",
	}, {
		name: "not copied yet",
		src:  dense(0, 10), srcEnd: -1, tgt: dense(0, 6), tgtEnd: -1,
		c: 8, cpUp: 5, cpDown: 3, progress: 5,
		err: "cannot translate yet: source record orders/0@7 not copied (MM2 at 5)",
	}, {
		name: "copied but not found: content differs on the target",
		src:  dense(0, 10), srcEnd: -1, tgt: recs(0, names(20, 30)...), tgtEnd: -1,
		c: 8, cpUp: 8, cpDown: 3, progress: 9,
		err: "cannot find the copy of source record orders/0@7 on old.orders/0 between offsets 2 and 10",
	}, {
		name: "no copy found and MM2's progress unknown: an error, never the target end",
		src:  dense(0, 10), srcEnd: -1, tgt: recs(0, names(20, 30)...), tgtEnd: -1,
		c: 0, cpUp: -1, cpDown: -1, progress: -1, progressUnreadable: true,
		err: "cannot tell whether MM2 has copied source record orders/0@0: its progress is unknown: cannot read mm2-offsets.old.internal: topic authorization failed",
	}, {
		name:      "compacted: the record below's copy is gone from the target, replaced by its key's later record",
		compacted: true,
		src:       []kafka.Record{kvRec(0, "x", "x1"), kvRec(1, "y", "y1"), kvRec(2, "x", "x2"), kvRec(3, "y", "y2")}, srcEnd: -1,
		tgtStart: 10, tgt: []kafka.Record{kvRec(12, "x", "x2"), kvRec(13, "y", "y2")}, tgtEnd: -1,
		c: 2, cpUp: -1, cpDown: -1, progress: 3,
		exact: 12, replays: -1, anchor: 2, anchorCopy: 12, how: "copy of the first record at or after",
	}, {
		name:      "compacted: the first record at or after is gone from the target; the next both kept decides, from the checkpoint",
		compacted: true,
		src: []kafka.Record{kvRec(0, "x", "x1"), kvRec(1, "y", "y1"), kvRec(2, "z", "z1"), kvRec(3, "q", "q1"),
			kvRec(4, "z", "z2")}, srcEnd: -1,
		tgtStart: 10, tgt: []kafka.Record{kvRec(10, "x", "x1"), kvRec(11, "y", "y1"), kvRec(13, "q", "q1"), kvRec(14, "z", "z2")}, tgtEnd: -1,
		c: 2, cpUp: 2, cpDown: 12, progress: 4,
		exact: 13, replays: 0, anchor: 3, anchorCopy: 13, how: "copy of the first record at or after that both sides kept (compacted)",
	}, {
		name:       "a LogAppendTime target: copies recognised without their timestamps",
		appendTime: true,
		src:        dense(0, 10), srcEnd: -1, tgt: restamped(dense(0, 10)), tgtEnd: -1,
		c: 5, cpUp: 5, cpDown: 5, progress: 9,
		exact: 5, replays: 0, anchor: 4, anchorCopy: 4, how: "copy of the last record below",
	}, {
		name: "no checkpoint: the search starts at the first target record stamped at or after the anchor, not at the log start",
		src:  inOrder(dense(0, 2000)), srcEnd: -1, tgt: inOrder(dense(0, 2000)), tgtEnd: -1,
		c: 1500, cpUp: -1, cpDown: -1, progress: 1999, limit: ScanLimit{Offsets: 100, Bytes: 1 << 30},
		exact: 1500, replays: -1, anchor: 1499, anchorCopy: 1499, how: "copy of the last record below",
	}, {
		name: "scan bound exceeded (timestamps out of order: the first one at or after the anchor's is near the start)",
		src:  dense(0, 2000), srcEnd: -1, tgt: dense(0, 2000), tgtEnd: -1,
		c: 1500, cpUp: -1, cpDown: -1, progress: 1999, limit: ScanLimit{Offsets: 100, Bytes: 1 << 30},
		err: "cannot find the copy on old.orders/0: scan limit reached (100 offsets or 1073741824 bytes) reading from offset 0 to",
	}}
}

// exactFixture builds the two clusters of one case.
func exactFixture(tc exactCase) (src, tgt *cutoverFake, flow mm2.Flow) {
	flow = mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true, ReadCommitted: tc.readCommitted,
		Filter: mm2.Filter{Topics: []string{"orders"}, Groups: []string{".*"}}}
	src = newCutoverFake(1, 2)
	src.addTopic("orders", 1)
	src.put("orders", 0, tc.srcStart, tc.srcEnd, tc.src...)
	src.abort("orders", 0, tc.aborted...)
	src.fetchRecords = 3 // several rounds
	if tc.compacted {
		src.setConfig("orders", topicCleanupPolicy, "compact")
	}
	src.addGroup("g", "Empty", 0, map[kafka.TopicPartition]int64{tp("orders", 0): tc.c})

	tgt = newCutoverFake(1, 2)
	tgt.addTopic("old.orders", 1)
	tgt.put("old.orders", 0, tc.tgtStart, tc.tgtEnd, tc.tgt...)
	tgt.abort("old.orders", 0, tc.tgtAborted...)
	tgt.fetchRecords = 4
	if tc.appendTime {
		tgt.setConfig("old.orders", topicTimestampType, "LogAppendTime")
	}
	tgt.addTopic(flow.ConnectOffsetsTopic(), 1)
	tgt.addTopic(flow.CheckpointsTopic(), 1)
	if tc.progress >= 0 {
		tgt.append(flow.ConnectOffsetsTopic(), 0, kv(mm2test.ConnectKey("old", "orders", 0), mm2test.ConnectValue(tc.progress)))
	}
	if tc.progressUnreadable {
		tgt.topicErrs[flow.ConnectOffsetsTopic()] = errors.New("topic authorization failed")
	}
	if tc.cpUp >= 0 {
		tgt.append(flow.CheckpointsTopic(), 0, kv(mm2test.CheckpointKey("g", "old.orders", 0), mm2test.CheckpointValue(tc.cpUp, tc.cpDown, "")))
	}
	return src, tgt, flow
}

func TestGivenAGroupPositionWhenTranslatedExactlyThenTheCopyOfTheRecordBelowDecides(t *testing.T) {
	for _, tc := range exactCases() {
		t.Run(tc.name, func(t *testing.T) {
			src, tgt, flow := exactFixture(tc)
			limit := tc.limit
			if limit == (ScanLimit{}) {
				limit = defaultScanLimit
			}
			got, err := exactOffsets(context.Background(), src, tgt, flow, []string{"g"}, limit, nil)
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.NoError(t, got[0].Err)
			require.Len(t, got[0].Partitions, 1)
			p := got[0].Partitions[0]
			assert.Equal(t, "orders", p.Topic)
			assert.Equal(t, "old.orders", p.TargetTopic)
			assert.Equal(t, tc.c, p.SourceCommitted)
			assert.Equal(t, tc.cpUp, p.CheckpointUpstream)
			assert.Equal(t, tc.cpDown, p.Checkpoint)
			if tc.err != "" {
				require.Error(t, p.Err)
				assert.Contains(t, p.Err.Error(), tc.err)
				assert.Equal(t, int64(-1), p.Exact)
				assert.False(t, got[0].Complete())
				assert.Empty(t, got[0].Targets())
				return
			}
			require.NoError(t, p.Err)
			assert.Equal(t, tc.exact, p.Exact, "exact")
			assert.Equal(t, tc.replays, p.ReplaysAvoided, "replays avoided")
			assert.Equal(t, tc.anchor, p.Anchor, "anchor")
			assert.Equal(t, tc.anchorCopy, p.AnchorCopy, "anchor copy")
			assert.Equal(t, tc.how, p.How)
			assert.True(t, got[0].Complete())
			assert.Equal(t, []TargetOffset{{Topic: "old.orders", Partition: 0, Offset: tc.exact}}, got[0].Targets())
		})
	}
}

func TestGivenScanLimitExceededThenTheErrorIsTyped(t *testing.T) {
	var tc exactCase
	for _, c := range exactCases() {
		if strings.HasPrefix(c.name, "scan bound exceeded") {
			tc = c
		}
	}
	src, tgt, flow := exactFixture(tc)
	got, err := exactOffsets(context.Background(), src, tgt, flow, []string{"g"}, tc.limit, nil)
	require.NoError(t, err)
	var limitErr *ScanLimitError
	require.ErrorAs(t, got[0].Partitions[0].Err, &limitErr)
	assert.Equal(t, int64(0), limitErr.From)
}

// TestGivenManyGroupsAndPartitionsWhenTranslatedThenFetchesAreBatched: the
// number of Fetch requests follows the rounds of reading, not the number
// of partitions, and groups at the same position share their searches.
func TestGivenManyGroupsAndPartitionsWhenTranslatedThenFetchesAreBatched(t *testing.T) {
	build := func(partitions int) (*cutoverFake, *cutoverFake, mm2.Flow) {
		flow := mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true, Filter: mm2.Filter{Topics: []string{"orders"}, Groups: []string{".*"}}}
		src, tgt := newCutoverFake(1, 2), newCutoverFake(1, 2)
		src.addTopic("orders", partitions)
		tgt.addTopic("old.orders", partitions)
		tgt.addTopic(flow.ConnectOffsetsTopic(), 1)
		tgt.addTopic(flow.CheckpointsTopic(), 1)
		offsets := map[kafka.TopicPartition]int64{}
		for p := range int32(partitions) {
			src.put("orders", p, 0, -1, dense(0, 50)...)
			tgt.put("old.orders", p, 0, -1, copies(0, []int64{10, 20, 30}, names(0, 50)...)...)
			offsets[tp("orders", p)] = 40
			tgt.append(flow.CheckpointsTopic(), 0,
				kv(mm2test.CheckpointKey("a", "old.orders", p), mm2test.CheckpointValue(40, 30, "")),
				kv(mm2test.CheckpointKey("b", "old.orders", p), mm2test.CheckpointValue(40, 30, "")))
		}
		src.addGroup("a", "Empty", 0, offsets)
		src.addGroup("b", "Empty", 0, offsets)
		return src, tgt, flow
	}
	fetches := map[int]int{}
	for _, n := range []int{2, 16} {
		src, tgt, flow := build(n)
		got, err := exactOffsets(context.Background(), src, tgt, flow, nil, defaultScanLimit, nil)
		require.NoError(t, err)
		require.Len(t, got, 2)
		for _, g := range got {
			require.True(t, g.Complete(), "%+v", g)
			require.Len(t, g.Partitions, n)
			for _, p := range g.Partitions {
				assert.Equal(t, int64(43), p.Exact, "a39 is at 42 after three markers")
				assert.Equal(t, int64(12), p.ReplaysAvoided, "a28..a39 at 31..42; 30 is a marker")
			}
		}
		fetches[n] = src.calls["Fetch"] + tgt.calls["Fetch"]
	}
	assert.Equal(t, fetches[2], fetches[16], "one Fetch per leader per round, whatever the number of partitions")
	assert.LessOrEqual(t, fetches[16], 12)
}

func TestGivenGroupErrorsWhenTranslatedThenOnlyThatGroupFails(t *testing.T) {
	tc := exactCases()[0]
	src, tgt, flow := exactFixture(tc)
	src.addGroup("other", "Empty", 0, map[kafka.TopicPartition]int64{tp("orders", 0): 10, tp("unmirrored", 0): 3})
	src.down[2] = errors.New("broker 2 down")
	src.movedTo = map[string]int32{"broken": 2}
	src.addGroup("broken", "Empty", 0, map[kafka.TopicPartition]int64{tp("orders", 0): 1})
	got, err := exactOffsets(context.Background(), src, tgt, flow, []string{"other", "g", "broken", "g"}, defaultScanLimit, nil)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, "broken", got[0].Group)
	assert.ErrorContains(t, got[0].Err, "broker 2 down")
	assert.Equal(t, "g", got[1].Group)
	assert.True(t, got[1].Complete())
	assert.Equal(t, "other", got[2].Group)
	require.Len(t, got[2].Partitions, 1, "unmirrored partitions are not translated")
	assert.Equal(t, int64(10), got[2].Partitions[0].Exact, "committed at the end")
	assert.Equal(t, int64(-1), got[2].Partitions[0].ReplaysAvoided, "no checkpoint for it")
}

func TestGivenInvalidInputWhenTranslatedThenError(t *testing.T) {
	src, tgt, flow := exactFixture(exactCases()[0])
	_, err := exactOffsets(context.Background(), src, tgt, mm2.Flow{}, nil, defaultScanLimit, nil)
	assert.ErrorContains(t, err, "cannot translate offsets: flow has no source alias")
	_, err = exactOffsets(context.Background(), src, tgt, flow, nil, ScanLimit{}, nil)
	assert.ErrorContains(t, err, "scan limit must be positive")
	tgt.metaErr = errors.New("unreachable")
	_, err = exactOffsets(context.Background(), src, tgt, flow, nil, defaultScanLimit, nil)
	assert.ErrorContains(t, err, "cannot describe clusters: unreachable")
	_, err = (&Pair{}).ExactOffsets(context.Background(), flow, nil, ScanLimit{})
	assert.ErrorContains(t, err, "both clusters are needed")
}

func TestSameRecordComparesWhatMM2Copies(t *testing.T) {
	base := rec(0, "a")
	for _, tc := range []struct {
		name   string
		change func(r *kafka.Record)
		same   bool
	}{
		{"offset differs", func(r *kafka.Record) { r.Offset = 9 }, true},
		{"key", func(r *kafka.Record) { r.Key = []byte("b") }, false},
		{"null key vs empty", func(r *kafka.Record) { r.Key = nil }, false},
		{"value", func(r *kafka.Record) { r.Value = []byte("x") }, false},
		{"timestamp", func(r *kafka.Record) { r.Timestamp++ }, false},
		{"header value", func(r *kafka.Record) { r.Headers = []kafka.Header{{Key: []byte("h"), Value: []byte("x")}} }, false},
		{"header missing", func(r *kafka.Record) { r.Headers = nil }, false},
	} {
		r := rec(0, "a")
		tc.change(&r)
		assert.Equal(t, tc.same, sameRecord(base, r, true), tc.name)
		assert.Equal(t, tc.same || tc.name == "timestamp", sameRecord(base, r, false), "%s, a LogAppendTime copy", tc.name)
	}
	a, b := kafka.Record{Key: []byte{}}, kafka.Record{Key: nil}
	assert.False(t, sameRecord(a, b, true))
}

// inOrder is rs stamped one millisecond apart, in offset order, as most
// producers write.
func inOrder(rs []kafka.Record) []kafka.Record {
	out := make([]kafka.Record, len(rs))
	for i, r := range rs {
		r.Timestamp = 1_700_000_000_000 + r.Offset
		out[i] = r
	}
	return out
}

// restamped is rs as a LogAppendTime target holds their copies: the
// broker's append time replaces each timestamp.
func restamped(rs []kafka.Record) []kafka.Record {
	out := make([]kafka.Record, len(rs))
	for i, r := range rs {
		r.Timestamp = 1_800_000_000_000 + int64(i)
		out[i] = r
	}
	return out
}
