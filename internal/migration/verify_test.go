package migration

import (
	"context"
	"errors"
	"testing"
	"time"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGivenACopyWhenVerifiedThenCountsAndContentDecide(t *testing.T) {
	changed := rec(9, "a9")
	changed.Value = []byte("changed")
	for _, tc := range []struct {
		name          string
		readCommitted bool
		readAll       bool
		src, tgt      []kafka.Record
		srcEnd        int64
		aborted       []int64
		tgtStable     int64 // -1: no open transaction

		countedBy  string
		srcN, tgtN int64
		sampled    int
		dups       int64
		equal      bool
		why        string
		err        string
	}{{
		name: "dense copy: offsets count, tail and spread samples hash the same",
		src:  dense(0, 100), tgt: dense(0, 100), srcEnd: -1, tgtStable: -1,
		countedBy: CountedByOffsets, srcN: 100, tgtN: 100, sampled: 10 + spreadSamples, equal: true,
	}, {
		name: "dense copy, read whole on request",
		src:  dense(0, 100), tgt: dense(0, 100), srcEnd: -1, tgtStable: -1, readAll: true,
		countedBy: CountedByRecords, srcN: 100, tgtN: 100, sampled: 100, equal: true,
	}, {
		name: "the target misses its first record and never lost any",
		src:  dense(0, 100), tgt: recs(0, names(1, 100)...), srcEnd: -1, tgtStable: -1,
		countedBy: CountedByRecords, srcN: 100, tgtN: 99, sampled: 99, equal: false,
		why: "1 source record(s) have no copy on the target, the first at offset 0",
	}, {
		name: "the target misses a record in the middle",
		src:  dense(0, 5), tgt: recs(0, "a0", "a1", "a3", "a4"), srcEnd: -1, tgtStable: -1,
		countedBy: CountedByRecords, srcN: 5, tgtN: 4, sampled: 4, equal: false,
		why: "1 source record(s) have no copy on the target, the first at offset 2",
	}, {
		name: "transaction markers on the source: read whole, same records",
		src:  []kafka.Record{rec(0, "a0"), rec(1, "a1"), rec(3, "a3"), rec(5, "a5")}, srcEnd: 7,
		tgt: recs(0, "a0", "a1", "a3", "a5"), tgtStable: -1,
		countedBy: CountedByRecords, srcN: 4, tgtN: 4, sampled: 4, equal: true,
	}, {
		name: "same span, a marker on the source and a duplicate on the target: equal, the duplicate counted",
		src:  []kafka.Record{rec(0, "a0"), rec(1, "a1"), rec(3, "a3")}, srcEnd: -1,
		tgt: recs(0, "a0", "a1", "a1", "a3"), tgtStable: -1,
		countedBy: CountedByRecords, srcN: 3, tgtN: 4, sampled: 3, dups: 1, equal: true,
	}, {
		name: "a run copied twice after an unclean stop: equal, the run counted",
		src:  dense(0, 6), srcEnd: -1,
		tgt: recs(0, "a0", "a1", "a2", "a3", "a1", "a2", "a3", "a4", "a5"), tgtStable: -1,
		countedBy: CountedByRecords, srcN: 6, tgtN: 9, sampled: 6, dups: 3, equal: true,
	}, {
		name: "a record on the target that the source never had",
		src:  dense(0, 4), srcEnd: -1,
		tgt: recs(0, "a0", "a1", "zz", "a2", "a3"), tgtStable: -1,
		countedBy: CountedByRecords, srcN: 4, tgtN: 5, sampled: 4, equal: false,
		why: "1 target record(s) copy no source record, the first at offset 2",
	}, {
		name: "a record changed in the tail",
		src:  dense(0, 10), tgt: append(dense(0, 9), changed), srcEnd: -1, tgtStable: -1,
		countedBy: CountedByRecords, srcN: 10, tgtN: 10, sampled: 9, equal: false,
		why: "1 source record(s) have no copy (the first at offset 9) and 1 target record(s) copy no source record (the first at offset 9)",
	}, {
		name:          "read_committed MM2: an aborted record on the source is not counted",
		readCommitted: true,
		src:           []kafka.Record{rec(0, "a0"), rec(1, "x1"), rec(3, "a3")}, aborted: []int64{1}, srcEnd: -1,
		tgt: recs(0, "a0", "a3"), tgtStable: -1,
		countedBy: CountedByRecords, srcN: 2, tgtN: 2, sampled: 2, equal: true,
	}, {
		name: "read_uncommitted MM2 copies an aborted record: counted",
		src:  []kafka.Record{rec(0, "a0"), rec(1, "x1"), rec(3, "a3")}, aborted: []int64{1}, srcEnd: -1,
		tgt: recs(0, "a0", "x1", "a3"), tgtStable: -1,
		countedBy: CountedByRecords, srcN: 3, tgtN: 3, sampled: 3, equal: true,
	}, {
		name: "an open transaction on the target",
		src:  dense(0, 10), tgt: dense(0, 10), srcEnd: -1, tgtStable: 8,
		srcN: -1, tgtN: -1, err: "cannot count: a transaction is open on old.orders/0 (last stable offset 8, end 10)",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			flow := mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true, ReadCommitted: tc.readCommitted,
				Filter: mm2.Filter{Topics: []string{"orders"}}}
			src, tgt := newCutoverFake(1, 2), newCutoverFake(1, 2)
			src.addTopic("orders", 1)
			src.put("orders", 0, 0, tc.srcEnd, tc.src...)
			src.abort("orders", 0, tc.aborted...)
			src.fetchRecords = 7
			tgt.addTopic("old.orders", 1)
			tgt.put("old.orders", 0, 0, -1, tc.tgt...)
			if tc.tgtStable >= 0 {
				tgt.stable[tp("old.orders", 0)] = tc.tgtStable
			}
			v, err := verifyPartitions(context.Background(), src, tgt, flow, verifyOptions{SampleSize: 10, ReadAll: tc.readAll, WholeBelow: -1})
			require.NoError(t, err)
			require.Len(t, v.Partitions, 1)
			p := v.Partitions[0]
			if tc.err != "" {
				assert.ErrorContains(t, p.Err, tc.err)
			} else {
				require.NoError(t, p.Err)
			}
			assert.Equal(t, tc.countedBy, p.CountedBy, "counted by")
			assert.Equal(t, tc.srcN, p.SourceRecords, "source records")
			assert.Equal(t, tc.tgtN, p.TargetRecords, "target records")
			assert.Equal(t, tc.sampled, p.Sampled, "sampled")
			assert.Equal(t, tc.equal, p.Equal, "equal")
			assert.Equal(t, tc.equal, v.Equal)
			assert.Equal(t, tc.dups, p.Duplicates, "duplicates")
			if tc.why != "" {
				assert.Equal(t, tc.why, p.Why)
			}
		})
	}
}

func TestGivenManyPartitionsWhenVerifiedThenEachIsJudgedAndTotalsAdd(t *testing.T) {
	flow := mm2.Flow{SourceAlias: "old", TargetAlias: "new", Filter: mm2.Filter{Topics: []string{"orders", "pay"}}} // identity names
	src, tgt := newCutoverFake(1, 2), newCutoverFake(1, 2)
	src.addTopic("orders", 3)
	src.addTopic("pay", 1)
	tgt.addTopic("orders", 3)
	for p := range int32(3) {
		src.put("orders", p, 0, -1, dense(0, 50)...)
		tgt.put("orders", p, 0, -1, dense(0, 50)...)
	}
	src.put("pay", 0, 0, -1, dense(0, 5)...)
	v, err := verifyPartitions(context.Background(), src, tgt, flow, verifyOptions{SampleSize: 5})
	require.NoError(t, err)
	require.Len(t, v.Partitions, 4)
	for _, p := range v.Partitions[:3] {
		assert.True(t, p.Equal, "%+v", p)
	}
	assert.False(t, v.Partitions[3].Equal, "pay has no copy")
	assert.Error(t, v.Partitions[3].Err)
	assert.False(t, v.Equal)
	assert.Equal(t, int64(150), v.SourceRecords, "known counts only")
	assert.Equal(t, int64(150), v.TargetRecords)
	// Five windows per partition, partitions batched: rounds, not partitions.
	assert.LessOrEqual(t, src.calls["Fetch"], 2*(1+spreadSamples))
}

func TestGivenInvalidInputWhenVerifiedThenError(t *testing.T) {
	src, tgt := newCutoverFake(1), newCutoverFake(1)
	_, err := verifyPartitions(context.Background(), src, tgt, mm2.Flow{}, verifyOptions{})
	assert.ErrorContains(t, err, "flow has no source alias")
	_, err = verifyPartitions(context.Background(), src, tgt, testFlow, verifyOptions{SampleSize: -1})
	assert.ErrorContains(t, err, "negative sample size")
	src.metaErr = errors.New("unreachable")
	_, err = verifyPartitions(context.Background(), src, tgt, testFlow, verifyOptions{})
	assert.ErrorContains(t, err, "cannot describe clusters: unreachable")
	_, err = (&Pair{}).Verify(context.Background(), testFlow, 1, nil)
	assert.ErrorContains(t, err, "both clusters are needed")
}

// A broker answers a read with whole producer batches, so sampling costs at least a batch per
// window: a partition its tail says is small is read whole (the stronger proof, for less), a
// large one is sampled.
func TestGivenAPartitionsSizeWhenVerifiedThenSmallOnesAreReadWholeAndLargeOnesSampled(t *testing.T) {
	for _, tc := range []struct {
		name       string
		wholeBelow int64
		countedBy  string
		sampled    int
		fetches    int // per side, for 2 partitions: reads are batched, windows of a partition take turns
	}{
		{"small (the default bound, 1 MiB)", 0, CountedByRecords, 100, 1 + 1},
		{"large (estimated above the bound)", 100, CountedByOffsets, 10 + spreadSamples, 1 + spreadSamples},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flow := mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true, Filter: mm2.Filter{Topics: []string{"orders"}}}
			src, tgt := newCutoverFake(1), newCutoverFake(1)
			src.addTopic("orders", 2)
			tgt.addTopic("old.orders", 2)
			for p := range int32(2) {
				src.put("orders", p, 0, -1, dense(0, 100)...)
				tgt.put("old.orders", p, 0, -1, dense(0, 100)...)
			}
			v, err := verifyPartitions(context.Background(), src, tgt, flow, verifyOptions{SampleSize: 10, WholeBelow: tc.wholeBelow})
			require.NoError(t, err)
			p := v.Partitions[0]
			require.NoError(t, p.Err)
			assert.True(t, p.Equal)
			assert.Equal(t, tc.countedBy, p.CountedBy)
			assert.Equal(t, tc.sampled, p.Sampled)
			assert.Equal(t, tc.fetches, src.calls["Fetch"], "source Fetch requests")
		})
	}
}

func TestGivenProducersWhenWatchedThenQuietOnlyWhenNoEndMoves(t *testing.T) {
	flow := mm2.Flow{SourceAlias: "old", TargetAlias: "new", Filter: mm2.Filter{Topics: []string{"orders"}}}
	for _, tc := range []struct {
		name      string
		growAfter int
		moved     []EndMove
	}{
		{"quiet", 0, nil},
		{"a producer still writing", 3, []EndMove{{Topic: "orders", Partition: 0, Before: 10, After: 11}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newCutoverFake(1)
			src.addTopic("orders", 1)
			src.setOffsets("orders", 0, 0, 10)
			src.growAfter = tc.growAfter
			begin := time.Now()
			moved, err := quiet(context.Background(), src, flow, 200*time.Millisecond)
			require.NoError(t, err)
			assert.Equal(t, tc.moved, moved)
			if tc.moved == nil {
				assert.GreaterOrEqual(t, time.Since(begin), 200*time.Millisecond, "the whole period")
			} else {
				assert.Less(t, time.Since(begin), 200*time.Millisecond, "returns as soon as an end moves")
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := newCutoverFake(1)
	src.addTopic("orders", 1)
	_, err := quiet(ctx, src, flow, time.Hour)
	assert.ErrorIs(t, err, context.Canceled)
}
