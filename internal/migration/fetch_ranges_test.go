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

// A batch cut short by the room asked for is asked again with more, and one that does not fit
// in fetchPartitionMaxBytes fails; an empty answer is not that.
func TestReadStepTellsACutShortBatchFromAStarvedAnswer(t *testing.T) {
	s := readStep{offset: 5, maxBytes: fetchPartitionBytes}
	next, err := s.next(kafka.Fetched{Next: 5, Partial: true})
	require.NoError(t, err)
	assert.Equal(t, int32(2*fetchPartitionBytes), next.maxBytes)

	next, err = s.next(kafka.Fetched{Next: 5})
	require.NoError(t, err)
	assert.Equal(t, readStep{offset: 5, maxBytes: fetchPartitionBytes, starved: 1}, next, "asked again as it was")

	_, err = readStep{offset: 5, maxBytes: fetchPartitionMaxBytes}.next(kafka.Fetched{Next: 5, Partial: true})
	assert.ErrorIs(t, err, errNoProgress)
	_, err = readStep{offset: 5, maxBytes: fetchPartitionBytes, starved: maxStarved}.next(kafka.Fetched{Next: 5})
	assert.ErrorIs(t, err, errNoProgress)

	next, err = readStep{offset: 5, maxBytes: 4 * fetchPartitionBytes, starved: 3}.next(kafka.Fetched{Next: 9})
	require.NoError(t, err)
	assert.Equal(t, readStep{offset: 9, maxBytes: fetchPartitionBytes}, next)
}
