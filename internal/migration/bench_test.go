package migration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/mm2/mm2test"

	"github.com/stretchr/testify/require"
)

const (
	benchTopics     = 20
	benchPartitions = 100 // per topic: 2,000 in all
	benchGroups     = 200
	benchRecords    = 5 // per partition
)

// BenchmarkMeasure measures a migration of 2,000 partitions and 200 groups
// (each committed on the 100 partitions of one topic) on one real broker
// playing both sides, under the identity policy so that the groups' source
// and target offsets are the same commits. MM2 is caught up and every group
// translated, so the view is complete. It reports the requests one Measure
// sends (which must not grow with partitions or groups) and the offsets it
// reads per second: each partition's start and end, and each group
// partition's committed offset on both sides.
func BenchmarkMeasure(b *testing.B) {
	c := requireKafka(b, "bench", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	k := newKit(b, c)
	flow := mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: false, Filter: mm2.DefaultFilter()}

	begin := time.Now()
	for i := range benchTopics {
		k.createTopic(benchTopic(i), benchPartitions, false)
	}
	k.createTopic(flow.ConnectOffsetsTopic(), 25, true)
	k.createTopic(flow.CheckpointsTopic(), 1, true)
	all := []string{flow.ConnectOffsetsTopic(), flow.CheckpointsTopic()}
	for i := range benchTopics {
		all = append(all, benchTopic(i))
	}
	k.waitTopics(all...)
	b.Logf("created %d partitions in %s", benchTopics*benchPartitions, time.Since(begin).Round(time.Millisecond))

	step := time.Now()
	written := 0
	send := func(topic string, partition int32, kvs ...[2][]byte) {
		k.send(topic, partition, kvs...)
		written += len(kvs)
	}
	records := make([][2][]byte, benchRecords)
	for i := range records {
		records[i] = kv(nil, []byte("record"))
	}
	for i := range benchTopics {
		for p := range int32(benchPartitions) {
			send(benchTopic(i), p, records...)
			send(flow.ConnectOffsetsTopic(), int32(i*benchPartitions+int(p))%25,
				kv(mm2test.ConnectKey(flow.SourceAlias, benchTopic(i), p), mm2test.ConnectValue(benchRecords-1)))
		}
	}
	var checkpoints [][2][]byte
	for g := range benchGroups {
		for p := range int32(benchPartitions) {
			checkpoints = append(checkpoints, kv(mm2test.CheckpointKey(benchGroup(g), benchTopic(g%benchTopics), p), mm2test.CheckpointValue(3, 3, "")))
		}
	}
	send(flow.CheckpointsTopic(), 0, checkpoints...)
	b.Logf("wrote %d records in %s", written, time.Since(step).Round(time.Millisecond))

	// Each group's commit in one request to its coordinator, through the charm's own client:
	// sarama's offset manager asks for every partition's offset first and closes on a ticker, and
	// took most of an hour for 20,000 partitions.
	step = time.Now()
	committer, err := kafka.Dial(ctx, adminAccess(c))
	require.NoError(b, err)
	for g := range benchGroups {
		offsets := make(map[kafka.TopicPartition]int64, benchPartitions)
		for p := range int32(benchPartitions) {
			offsets[tp(benchTopic(g%benchTopics), p)] = 3
		}
		coordinator, err := committer.FindCoordinator(ctx, benchGroup(g))
		require.NoError(b, err)
		failed, err := committer.CommitOffsets(ctx, coordinator, benchGroup(g), offsets)
		require.NoError(b, err)
		for tp, err := range failed {
			require.NoError(b, err, "%s %v", benchGroup(g), tp)
		}
	}
	committer.Close()
	b.Logf("committed %d groups in %s; setup took %s", benchGroups, time.Since(step).Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))

	source, err := kafka.Dial(ctx, adminAccess(c))
	require.NoError(b, err)
	defer source.Close()
	target, err := kafka.Dial(ctx, adminAccess(c))
	require.NoError(b, err)
	defer target.Close()

	v, err := (&Pair{Source: source, Target: target}).Measure(ctx, flow) // warm connections, check the fixture
	require.NoError(b, err)
	require.Empty(b, v.Errors)
	require.Len(b, v.Partitions, benchTopics*benchPartitions)
	require.True(b, v.CaughtUp())
	require.Equal(b, benchGroups, v.GroupsCounted)
	require.Equal(b, benchGroups, v.GroupsSynced)
	source.RequestsSent()
	target.RequestsSent()

	// As a hook measures: connections of its own, MM2's internal topics read whole.
	b.Run("status", func(b *testing.B) {
		benchMeasure(b, source, target, flow, func() *Pair { return &Pair{Source: source, Target: target} })
	})
	// As the migration exporter measures every interval: connections and the book of MM2's
	// internal topics kept between rounds, the copies' end offsets read too.
	book := &Book{}
	b.Run("exporter", func(b *testing.B) {
		benchMeasure(b, source, target, flow, func() *Pair { return &Pair{Source: source, Target: target, Book: book, TargetEnds: true} })
	})
}

func benchMeasure(b *testing.B, source, target *kafka.Cluster, flow mm2.Flow, pair func() *Pair) {
	ctx := context.Background()
	if _, err := pair().Measure(ctx, flow); err != nil { // a book reads everything once
		b.Fatal(err)
	}
	source.RequestsSent()
	target.RequestsSent()
	ops := 0
	b.ResetTimer()
	for b.Loop() {
		if _, err := pair().Measure(ctx, flow); err != nil {
			b.Fatal(err)
		}
		ops++
	}
	b.StopTimer()

	sent := map[string]int{}
	total := 0
	for side, c := range map[string]*kafka.Cluster{"source": source, "target": target} {
		for kind, n := range c.RequestsSent() {
			sent[side+" "+kind] += n
			total += n
		}
	}
	groupOffsets := benchGroups * benchPartitions * 2
	partitionOffsets := benchTopics * benchPartitions * 2
	perOp := b.Elapsed().Seconds() / float64(ops)
	b.ReportMetric(float64(total)/float64(ops), "requests/op")
	b.ReportMetric(float64(groupOffsets+partitionOffsets)/perOp, "offsets/s")
	b.Logf("requests per Measure by kind: %v", perKind(sent, ops))
}

func benchTopic(i int) string { return fmt.Sprintf("topic-%02d", i) }
func benchGroup(i int) string { return fmt.Sprintf("group-%03d", i) }

func perKind(sent map[string]int, ops int) map[string]float64 {
	out := make(map[string]float64, len(sent))
	for k, n := range sent {
		out[k] = float64(n) / float64(ops)
	}
	return out
}
