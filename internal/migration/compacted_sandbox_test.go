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

// compactedConfig makes a topic that the cleaner compacts within a second
// of a write, on a broker with log.cleaner.backoff.ms=100.
var compactedConfig = map[string]string{
	"cleanup.policy": "compact", "segment.ms": "100", "min.cleanable.dirty.ratio": "0.01",
	"min.compaction.lag.ms": "0",
	// Small enough that the cleaner cannot merge the empty batches with the
	// last producer's batch: a segment then holds nothing but empty batches.
	"segment.bytes": "150",
}

// cleanedChangelog writes the same keys from three idempotent producers
// (three producer ids) to a compacted topic with tiny segments, and waits
// until the cleaner has run: each key then survives once, and the log
// begins with the empty batches the cleaner keeps for the first two
// producers' state, as every compacted topic written by current clients
// does once cleaned. It returns what an independent reader (sarama's
// consumer) sees.
func cleanedChangelog(t *testing.T, ctx context.Context, c *localkafka.Cluster, topic string, keys int) []localkafka.Record {
	t.Helper()
	return cleanedChangelogs(t, ctx, c, []string{topic}, keys)[0]
}

// cleanedChangelogs is cleanedChangelog writing identical records (same
// keys, values and timestamps, as MM2 copies them) to each of topics, each
// cleaned by its own cleaner pass.
func cleanedChangelogs(t *testing.T, ctx context.Context, c *localkafka.Cluster, topics []string, keys int) [][]localkafka.Record {
	t.Helper()
	k := newKit(t, c)
	for _, topic := range topics {
		require.NoError(t, k.CreateTopic(topic, 1, compactedConfig))
	}
	k.waitTopics(topics...)
	base := time.UnixMilli(1_750_000_000_000)
	for producer := range 3 {
		ms := make([]localkafka.Message, keys)
		for i := range ms {
			ms[i] = localkafka.Message{Key: []byte(fmt.Sprintf("key-%03d", i)),
				Value:     []byte(fmt.Sprintf("value %d from producer %d %s", i, producer, strings.Repeat("x", 40))),
				Timestamp: base.Add(time.Duration(producer*keys+i) * time.Millisecond)}
		}
		for _, topic := range topics {
			w := newKit(t, c)
			for _, m := range ms { // one batch each: a segment holds 150 bytes
				require.NoError(t, w.Send(topic, 0, m))
			}
		}
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for filler := 0; ; filler++ {
		// A segment rolls, and so becomes cleanable, only on the next write.
		m := localkafka.Message{Key: []byte("filler"), Value: []byte(fmt.Sprint(filler)), Timestamp: base.Add(time.Hour)}
		out := make([][]localkafka.Record, len(topics))
		cleaned := true
		for i, topic := range topics {
			require.NoError(t, k.Send(topic, 0, m))
			read, err := k.ReadAll(ctx, topic)
			require.NoError(t, err)
			seen := map[string]int{}
			for _, r := range read[0] {
				seen[r.Key]++
			}
			for i := range keys {
				cleaned = cleaned && seen[fmt.Sprintf("key-%03d", i)] == 1
			}
			out[i] = read[0]
		}
		if cleaned {
			return out
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the cleaner did not compact %v in time: %v", topics, ctx.Err())
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
