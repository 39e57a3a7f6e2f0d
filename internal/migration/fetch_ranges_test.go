package migration

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/kafka"
)

// A broker fills its Fetch response up to fetch.max.bytes and answers the partitions it had no
// room for with nothing: those are read in a later round, never failed for "no progress" (as
// with 200 partitions of 4 MiB records under a 64 MiB response).
func TestGivenAResponseWithRoomForFewPartitionsWhenRangesAreReadThenEveryRecordArrives(t *testing.T) {
	src := newFakeCluster(1)
	src.addTopic("big", 6)
	ranges := map[kafka.TopicPartition]offsetRange{}
	for p := range int32(6) {
		src.setOffsets("big", p, 0, 30)
		ranges[tp("big", p)] = offsetRange{0, 30}
	}
	src.fetchRecords = 3    // ten answers per partition
	src.fetchPartitions = 2 // room for two partitions per response
	meta, err := src.Metadata(context.Background())
	require.NoError(t, err)
	errs := &itemErrors{}
	seen := map[kafka.TopicPartition]int{}
	failed := newSide("source", src, meta, errs).readRanges(context.Background(), ranges, readUncommitted,
		func(tp kafka.TopicPartition, _ kafka.Record) { seen[tp]++ })
	assert.Empty(t, failed)
	assert.Empty(t, errs.sorted())
	for p := range int32(6) {
		assert.Equal(t, 30, seen[tp("big", p)], "partition %d", p)
	}
}

// An answer with nothing (a response full of other partitions, or a first batch larger than the
// room asked for: a broker sends no part of it) is asked again with twice the room, up to
// fetchPartitionMaxBytes, and fails only after maxStarved in a row.
func TestReadStepAsksAnEmptyAnswerAgainWithMoreRoom(t *testing.T) {
	s := readStep{offset: 5, maxBytes: 64 << 10}
	for _, tc := range []struct {
		name string
		from readStep
		got  kafka.Fetched
		want readStep
		err  bool
	}{
		{"progress: on, with the usual room", readStep{offset: 5, maxBytes: 4 * fetchPartitionBytes, starved: 3},
			kafka.Fetched{Next: 9}, readStep{offset: 9, maxBytes: fetchPartitionBytes}, false},
		{"nothing: twice the room", s, kafka.Fetched{Next: 5}, readStep{offset: 5, maxBytes: 128 << 10, starved: 1}, false},
		{"a batch cut short: twice the room", s, kafka.Fetched{Next: 5, Partial: true}, readStep{offset: 5, maxBytes: 128 << 10, starved: 1}, false},
		{"nothing at the largest room: as it was", readStep{offset: 5, maxBytes: fetchPartitionMaxBytes, starved: 7},
			kafka.Fetched{Next: 5}, readStep{offset: 5, maxBytes: fetchPartitionMaxBytes, starved: 8}, false},
		{"nothing, maxStarved times", readStep{offset: 5, maxBytes: fetchPartitionMaxBytes, starved: maxStarved}, kafka.Fetched{Next: 5}, readStep{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, err := tc.from.next(tc.got)
			if tc.err {
				assert.ErrorIs(t, err, errNoProgress)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, next)
		})
	}
}
