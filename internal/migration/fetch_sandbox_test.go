package migration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/kafka"
)

// A Fetch answer ends with a batch cut short wherever the size limit falls
// (the partition's max bytes, or the response's once other partitions
// filled it). sarama decodes the cut batch's header and, when whole batches
// came before it, leaves the batch out while pointing its next offset past
// it: a read that trusted that offset skipped the whole batch unread, and a
// proof of 2,000 partitions read whole found thousands of records "without
// a copy" on the very partition it compared with itself. And a batch larger
// than the room asked for, not first in the answer, does not come at all:
// asked again with the same room, such a partition moved only when it came
// first, and 1,720 of 2,000 sampled partitions failed "no progress".
func TestGivenBatchesLargerThanTheRoomWhenFetchedThenNoneIsSkippedOrStuck(t *testing.T) {
	c := requireKafka(t, "fetch-cut", nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k := newKit(t, c)
	require.NoError(t, k.CreateTopic("cut", 2, nil))
	k.waitTopics("cut")
	k.send("cut", 0, kv([]byte("first"), []byte("a batch of its own")))
	value := []byte(strings.Repeat("v", 100))
	second := make([][2][]byte, 999)
	for i := range second {
		second[i] = kv([]byte(fmt.Sprint(i)), value)
	}
	k.send("cut", 0, second...) // one batch of about 120 KiB

	cl := mustDial(t, ctx, c)
	meta, err := cl.Metadata(ctx)
	require.NoError(t, err)
	leader := meta.Topics["cut"][0].Leader
	tp := kafka.TopicPartition{Topic: "cut", Partition: 0}
	got, err := cl.Fetch(ctx, leader, false, []kafka.FetchAsk{{TP: tp, Offset: 0, MaxBytes: 16 << 10}})
	require.NoError(t, err)
	f := got[tp]
	require.NoError(t, f.Err)
	require.NotEmpty(t, f.Records, "the whole batches before the cut")
	require.Less(t, len(f.Records), 1000, "a batch cut short by 16 KiB")
	last := f.Records[len(f.Records)-1].Offset
	assert.Equal(t, last+1, f.Next, "the next read starts at the batch cut short (%d records received), not after it", len(f.Records))

	// Asked again there beside another partition that comes first in the
	// answer, the batch larger than the room asked for does not come at
	// all (Fetch v3 and later send no part of a first batch that does not
	// fit): the read must ask again with more room, or it moves only in
	// the answers where the partition comes first (a broker always gives
	// the first partition with data one whole batch). Requests list
	// partitions in map order, so this asks until the other came first.
	k.send("cut", 1, kv([]byte("other"), []byte("a small record")))
	other := kafka.TopicPartition{Topic: "cut", Partition: 1}
	var empty kafka.Fetched
	for range 30 {
		got, err = cl.Fetch(ctx, leader, false, []kafka.FetchAsk{{TP: tp, Offset: f.Next, MaxBytes: 16 << 10}, {TP: other, Offset: 0, MaxBytes: 16 << 10}})
		require.NoError(t, err)
		if empty = got[tp]; len(empty.Records) == 0 {
			break
		}
	}
	require.NoError(t, empty.Err)
	require.Empty(t, empty.Records, "the other partition never came first in 30 answers")
	assert.False(t, empty.Partial, "no part of the batch")
	step, err := readStep{offset: f.Next, maxBytes: 16 << 10}.next(empty)
	require.NoError(t, err)
	assert.Equal(t, int32(32<<10), step.maxBytes, "asked again with more room")

	// And a whole read gets every record, at any fetch size.
	var n int64
	sd := newSide("source", cl, meta, &itemErrors{})
	failed := sd.readRanges(ctx, map[kafka.TopicPartition]offsetRange{tp: {0, 1000}}, readUncommitted,
		func(_ kafka.TopicPartition, r kafka.Record) {
			assert.Equal(t, n, r.Offset, "records in order, none skipped")
			n++
		})
	require.Empty(t, failed)
	assert.Equal(t, int64(1000), n)
}
