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
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// cleanedChangelog writes the same keys from three idempotent producers
// (three producer ids) to a compacted topic with tiny segments, and waits
// until the cleaner has run: each key then survives once, and the log
// begins with the empty batches the cleaner keeps for the first two
// producers' state, as every compacted topic written by current clients
// does once cleaned. It returns what an independent reader (sarama's
// consumer) sees.
func cleanedChangelog(t *testing.T, ctx context.Context, c *localkafka.Cluster, topic string, keys int) []localkafka.Record {
	t.Helper()
	k := newKit(t, c)
	require.NoError(t, k.CreateTopic(topic, 1, map[string]string{
		"cleanup.policy": "compact", "segment.ms": "100", "min.cleanable.dirty.ratio": "0.01",
		"min.compaction.lag.ms": "0",
		// Small enough that the cleaner cannot merge the empty batches with the
		// last producer's batch: a segment then holds nothing but empty batches.
		"segment.bytes": "150",
	}))
	k.waitTopics(topic)
	for producer := range 3 {
		w := newKit(t, c)
		kvs := make([][2][]byte, keys)
		for i := range kvs {
			kvs[i] = kv([]byte(fmt.Sprintf("key-%03d", i)), []byte(fmt.Sprintf("value %d from producer %d %s", i, producer, strings.Repeat("x", 40))))
		}
		w.send(topic, 0, kvs...)
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for filler := 0; ; filler++ {
		// A segment rolls, and so becomes cleanable, only on the next write.
		k.send(topic, 0, kv([]byte("filler"), []byte(fmt.Sprint(filler))))
		read, err := k.ReadAll(ctx, topic)
		require.NoError(t, err)
		seen := map[string]int{}
		for _, r := range read[0] {
			seen[r.Key]++
		}
		cleaned := true
		for i := range keys {
			cleaned = cleaned && seen[fmt.Sprintf("key-%03d", i)] == 1
		}
		if cleaned {
			return read[0]
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the cleaner did not compact %s in time: %v", topic, ctx.Err())
		case <-tick.C:
		}
	}
}

// TestGivenACompactedTopicWhoseCleanerRanWhenReadThenEveryRecordIsReached
// reads a cleaned compacted log the way the cutover's proof and exact
// offsets do, from its log start to its end: the empty batches at its start
// must be stepped over, and what is read must be exactly what Kafka's own
// consumer reads.
func TestGivenACompactedTopicWhoseCleanerRanWhenReadThenEveryRecordIsReached(t *testing.T) {
	c := requireKafka(t, "compacted", map[string]string{"log.cleaner.backoff.ms": "100"})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	want := cleanedChangelog(t, ctx, c, "changelog", 1)

	cl := mustDial(t, ctx, c)
	meta, err := cl.Metadata(ctx)
	require.NoError(t, err)
	errs := &itemErrors{}
	s := newSide("source", cl, meta, errs)
	tp := kafka.TopicPartition{Topic: "changelog", Partition: 0}
	start := s.listOffsets(ctx, []kafka.TopicPartition{tp}, kafka.OffsetEarliest, readUncommitted)[tp]
	end := s.listOffsets(ctx, []kafka.TopicPartition{tp}, kafka.OffsetLatest, readUncommitted)[tp]
	require.NoError(t, start.Err)
	require.NoError(t, end.Err)
	require.NotEmpty(t, want)
	require.Greater(t, want[0].Offset, start.Offset, "the cleaned log begins with offsets that hold no record")

	var got []kafka.Record
	failed := s.readRanges(ctx, map[kafka.TopicPartition]offsetRange{tp: {start.Offset, end.Offset}}, readUncommitted,
		func(_ kafka.TopicPartition, r kafka.Record) { got = append(got, r) })
	require.Empty(t, failed)
	require.Empty(t, errs.sorted())
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i].Offset, got[i].Offset, "record %d", i)
		assert.Equal(t, want[i].Key, string(got[i].Key), "record %d", i)
		assert.Equal(t, want[i].Value, string(got[i].Value), "record %d", i)
	}
}
