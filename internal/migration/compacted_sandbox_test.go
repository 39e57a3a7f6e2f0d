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
	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/mm2/mm2test"
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

// TestGivenACompactedTopicCleanedOnOneSideWhenCutOverThenConsumersResumeWithNothingSkipped
// is the consumer phase on compacted topics whose cleaners ran at different
// moments, on a real broker: "journal" is cleaned on the target only,
// "ledger" on the source only. On both, group "app" committed offset 5,
// whose record (k05, version 1) one cleaner removed as k05 was written
// again later. The exact offset must be the copy of the first record at or
// after 5 that both sides kept, and a consumer on the target reading from
// the written offset must see every key's latest value that a consumer on
// the source reading from 5 sees (0 skipped), and no record the source
// consumer had read (0 replayed). The producer phase's proof then holds
// by the latest value per key.
func TestGivenACompactedTopicCleanedOnOneSideWhenCutOverThenConsumersResumeWithNothingSkipped(t *testing.T) {
	c := requireKafka(t, "compacted-cutover", map[string]string{"log.cleaner.backoff.ms": "100"})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	flow := mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true, ReadCommitted: true,
		Filter: mm2.Filter{Topics: []string{"journal", "ledger"}, Groups: []string{"app"}}}
	k := newKit(t, c)
	// Never cleaned while the test runs: a week of record time before a
	// segment rolls, and the cleaner never touches the active segment.
	uncleaned := map[string]string{"cleanup.policy": "compact"}
	for topic, cfg := range map[string]map[string]string{"journal": uncleaned, "old.journal": compactedConfig,
		"ledger": compactedConfig, "old.ledger": uncleaned} {
		require.NoError(t, k.CreateTopic(topic, 1, cfg))
	}
	k.createTopic(flow.ConnectOffsetsTopic(), 1, true)
	k.createTopic(flow.CheckpointsTopic(), 1, true)
	k.waitTopics("journal", "old.journal", "ledger", "old.ledger", flow.ConnectOffsetsTopic(), flow.CheckpointsTopic())

	// k00..k19 version 1 (offsets 0-19), k00..k09 version 2 (20-29), k20..k29
	// version 1 (30-39), one record per batch (a segment holds 150 bytes).
	base := time.UnixMilli(1_750_000_000_000)
	var ms []localkafka.Message
	add := func(from, to, version int) {
		for i := from; i < to; i++ {
			ms = append(ms, localkafka.Message{Key: []byte(fmt.Sprintf("k%02d", i)), Value: []byte(fmt.Sprintf("v%d of k%02d", version, i)),
				Timestamp: base.Add(time.Duration(len(ms)) * time.Millisecond)})
		}
	}
	add(0, 20, 1)
	add(0, 10, 2)
	add(20, 30, 1)
	for _, topic := range []string{"journal", "old.journal", "ledger", "old.ledger"} {
		for _, m := range ms {
			require.NoError(t, k.Send(topic, 0, m))
		}
	}
	// The cleaned sides: a filler rolls the segment until k00..k09's first
	// versions are gone.
	for filler := 0; ; filler++ {
		done := true
		for _, topic := range []string{"old.journal", "ledger"} {
			// An hour past the records: a segment rolls when a record's
			// timestamp is segment.ms past its first, so the cleaned side rolls
			// at once and the uncleaned one (a week) never does.
			require.NoError(t, k.Send(topic, 0, localkafka.Message{Key: []byte("filler"), Value: []byte(fmt.Sprint(filler)),
				Timestamp: base.Add(time.Hour + time.Duration(filler)*time.Millisecond)}))
			read, err := k.ReadAll(ctx, topic)
			require.NoError(t, err)
			done = done && read[0][0].Key != "k00"
		}
		if done {
			break
		}
		require.NoError(t, ctx.Err(), "the cleaner did not run in time")
		time.Sleep(200 * time.Millisecond) // the cleaner's backoff; the loop polls its result
	}
	// The uncleaned sides get the fillers' copies too, so both hold the same keys.
	for _, pair := range [][2]string{{"old.journal", "journal"}, {"ledger", "old.ledger"}} {
		read, err := k.ReadAll(ctx, pair[0])
		require.NoError(t, err)
		for _, r := range read[0] {
			if r.Key == "filler" {
				require.NoError(t, k.Send(pair[1], 0, localkafka.Message{Key: []byte(r.Key), Value: []byte(r.Value), Timestamp: r.Timestamp}))
			}
		}
	}
	ends := map[string]int64{}
	for _, topic := range []string{"journal", "ledger"} {
		e, err := k.EndOffsets(topic)
		require.NoError(t, err)
		ends[topic] = e[0]
	}
	k.send(flow.ConnectOffsetsTopic(), 0,
		kv(mm2test.ConnectKey("old", "journal", 0), mm2test.ConnectValue(ends["journal"]-1)),
		kv(mm2test.ConnectKey("old", "ledger", 0), mm2test.ConnectValue(ends["ledger"]-1)))
	k.commit("app", map[kafka.TopicPartition]int64{tp("journal", 0): 5, tp("ledger", 0): 5})

	cl := mustDial(t, ctx, c)
	pair := &Pair{Source: cl, Target: cl}
	got, err := pair.ExactOffsets(ctx, flow, []string{"app"}, ScanLimit{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.True(t, got[0].Complete(), "%+v", got[0])
	require.NoError(t, pair.WriteGroupOffsets(ctx, "app", got[0].Targets()))

	for _, p := range got[0].Partitions {
		where := p.Topic
		assert.Equal(t, int64(10), p.Exact, "%s: the copy of k10, the first record at or after 5 both sides kept", where)
		written, err := k.GroupOffsets("app", p.TargetTopic, 1)
		require.NoError(t, err)
		require.Equal(t, p.Exact, written[0], where)

		onSource, err := k.ReadCommitted(ctx, p.Topic, 0, 5, func(r localkafka.Record) bool { return r.Offset+1 >= ends[p.Topic] })
		require.NoError(t, err)
		tEnds, err := k.EndOffsets(p.TargetTopic)
		require.NoError(t, err)
		onTarget, err := k.ReadCommitted(ctx, p.TargetTopic, 0, written[0], func(r localkafka.Record) bool { return r.Offset+1 >= tEnds[0] })
		require.NoError(t, err)
		latest := func(rs []localkafka.Record) map[string]string {
			out := map[string]string{}
			for _, r := range rs {
				out[r.Key] = r.Value
			}
			return out
		}
		assert.Equal(t, latest(onSource), latest(onTarget), "%s: every key's latest value from the committed position: 0 skipped", where)
		consumed := map[string]bool{}
		for _, m := range ms[:5] {
			consumed[string(m.Key)+"="+string(m.Value)] = true
		}
		for _, r := range onTarget {
			assert.False(t, consumed[r.Key+"="+r.Value], "%s: %s=%s was read on the source already: replayed", where, r.Key, r.Value)
		}
		t.Logf("%s: committed 5 on the source, exact %d on the target (%s): the target consumer reads %d records, the source one %d, same latest value of %d keys",
			where, p.Exact, p.How, len(onTarget), len(onSource), len(latest(onSource)))
	}

	v, err := pair.Verify(ctx, flow, 5, nil)
	require.NoError(t, err)
	for _, pc := range v.Partitions {
		require.NoError(t, pc.Err, pc.Topic)
		assert.True(t, pc.Equal, "%+v", pc)
		assert.Equal(t, CountedByKeys, pc.CountedBy, pc.Topic)
	}
}
