package migration

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
)

// kvRec is a record of a compacted topic: key, value ("" for a tombstone),
// and a timestamp that a copy keeps wherever its offset.
func kvRec(offset int64, key, value string) kafka.Record {
	r := kafka.Record{Offset: offset, Key: []byte(key), Timestamp: 1_700_000_000_000 + int64(len(key+value))}
	if value != "" {
		r.Value = []byte(value)
	}
	return r
}

// TestGivenATopicKindWhenVerifiedThenTheProofFitsIt covers what retention,
// compaction and LogAppendTime do to a copy that is nonetheless whole.
func TestGivenATopicKindWhenVerifiedThenTheProofFitsIt(t *testing.T) {
	stamped := func(rs []kafka.Record) []kafka.Record {
		out := make([]kafka.Record, len(rs))
		for i, r := range rs {
			r.Timestamp = 1_800_000_000_000 + int64(i) // the target broker's append time
			out[i] = r
		}
		return out
	}
	for _, tc := range []struct {
		name             string
		srcConfig        map[string]string
		tgtConfig        map[string]string
		srcStart         int64
		src              []kafka.Record
		tgtStart         int64
		tgt              []kafka.Record
		countedBy        string
		srcBefore, tgtBf int64
		keys             int64
		noTimestamps     bool
		equal            bool
		why              string
	}{{
		name:     "retention removed the target's oldest records: compared from the target's first",
		srcStart: 0, src: dense(0, 10),
		tgtStart: 4, tgt: recs(4, names(4, 10)...),
		countedBy: CountedByRecords, srcBefore: 4, equal: true,
	}, {
		name:     "retention removed the source's oldest records: compared from the source's first",
		srcStart: 6, src: recs(6, names(6, 10)...),
		tgtStart: 0, tgt: dense(0, 10),
		countedBy: CountedByRecords, tgtBf: 6, equal: true,
	}, {
		name:     "the target starts later but never lost a record: the source's head was never copied",
		srcStart: 0, src: dense(0, 10),
		tgtStart: 0, tgt: recs(0, names(4, 10)...),
		countedBy: CountedByRecords, equal: false,
		why: "4 source record(s) have no copy on the target, the first at offset 0",
	}, {
		name:      "compacted differently on each side: the latest value per key decides",
		srcConfig: map[string]string{topicCleanupPolicy: "compact"},
		src:       []kafka.Record{kvRec(3, "k1", "v1b"), kvRec(7, "k2", "v2c"), kvRec(9, "k3", "v3")},
		tgt: []kafka.Record{kvRec(9, "k1", "v1a"), kvRec(12, "k1", "v1b"), kvRec(13, "k2", "v2b"),
			kvRec(20, "k2", "v2c"), kvRec(22, "k3", "v3")},
		countedBy: CountedByKeys, keys: 3, equal: true,
	}, {
		name:      "compacted: a tombstone the source's cleaner already dropped",
		srcConfig: map[string]string{topicCleanupPolicy: "compact,delete"},
		src:       []kafka.Record{kvRec(5, "k2", "v2")},
		tgt:       []kafka.Record{kvRec(0, "k1", "v1"), kvRec(1, "k1", ""), kvRec(2, "k2", "v2")},
		countedBy: CountedByKeys, keys: 1, equal: true,
	}, {
		name:      "compacted: a key's latest value differs",
		srcConfig: map[string]string{topicCleanupPolicy: "compact"},
		src:       []kafka.Record{kvRec(3, "k1", "v1b"), kvRec(7, "k2", "v2c")},
		tgt:       []kafka.Record{kvRec(3, "k1", "v1b"), kvRec(7, "k2", "v2b")},
		countedBy: CountedByKeys, keys: 2, equal: false,
		why: "1 of 2 key(s) differ in their latest record (the first at offset 7)",
	}, {
		name:      "a LogAppendTime target: compared without timestamps",
		tgtConfig: map[string]string{topicTimestampType: "LogAppendTime"},
		src:       dense(0, 30), tgt: stamped(dense(0, 30)),
		countedBy: CountedByOffsets, noTimestamps: true, equal: true,
	}, {
		name: "new timestamps on a CreateTime target are a difference",
		src:  dense(0, 30), tgt: stamped(dense(0, 30)),
		countedBy: CountedByRecords, equal: false,
		why: "30 source record(s) have no copy (the first at offset 0) and 30 target record(s) copy no source record (the first at offset 0)",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			flow := mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true, Filter: mm2.Filter{Topics: []string{"orders"}}}
			src, tgt := newCutoverFake(1), newCutoverFake(1)
			src.addTopic("orders", 1)
			src.put("orders", 0, tc.srcStart, -1, tc.src...)
			tgt.addTopic("old.orders", 1)
			tgt.put("old.orders", 0, tc.tgtStart, -1, tc.tgt...)
			for k, v := range tc.srcConfig {
				src.setConfig("orders", k, v)
			}
			for k, v := range tc.tgtConfig {
				tgt.setConfig("old.orders", k, v)
			}
			src.fetchRecords, tgt.fetchRecords = 3, 2 // several rounds per partition

			v, err := verifyPartitions(context.Background(), src, tgt, flow, verifyOptions{SampleSize: 10, WholeBelow: -1})
			require.NoError(t, err)
			require.Len(t, v.Partitions, 1)
			p := v.Partitions[0]
			require.NoError(t, p.Err)
			assert.Equal(t, tc.countedBy, p.CountedBy, "counted by")
			assert.Equal(t, tc.srcBefore, p.SourceBefore, "source records before the window")
			assert.Equal(t, tc.tgtBf, p.TargetBefore, "target records before the window")
			assert.Equal(t, tc.keys, p.Keys, "keys")
			assert.Equal(t, tc.noTimestamps, p.WithoutTimestamps, "compared without timestamps")
			assert.Equal(t, tc.equal, p.Equal, "equal")
			assert.Equal(t, tc.why, p.Why)
		})
	}
}

// TestGivenManyPartitionsWhenReadWholeThenRoundsBoundWhatIsHeld checks that
// whole reads are split so that no round holds more than heldRecords per
// side, whatever the number of partitions.
func TestGivenManyPartitionsWhenReadWholeThenRoundsBoundWhatIsHeld(t *testing.T) {
	r := &verifyRun{sEnds: map[kafka.TopicPartition]partitionEnds{}, tEnds: map[kafka.TopicPartition]partitionEnds{}}
	var whole []int
	for i := range 10 {
		tp := kafka.TopicPartition{Topic: "t", Partition: int32(i)}
		r.mirrored, r.targets = append(r.mirrored, tp), append(r.targets, tp)
		r.sEnds[tp] = partitionEnds{start: 0, end: heldRecords / 3}
		r.tEnds[tp] = partitionEnds{start: 0, end: heldRecords / 3}
		whole = append(whole, i)
	}
	big := kafka.TopicPartition{Topic: "big", Partition: 0}
	r.mirrored, r.targets = append(r.mirrored, big), append(r.targets, big)
	r.sEnds[big], r.tEnds[big] = partitionEnds{end: 3 * heldRecords}, partitionEnds{end: 3 * heldRecords}
	whole = append(whole, 10)

	rounds := r.rounds(whole)
	assert.Equal(t, [][]int{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9}, {10}}, rounds)
}
