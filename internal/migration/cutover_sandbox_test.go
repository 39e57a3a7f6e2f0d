package migration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/mm2/mm2test"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// msg is a record written identically to a source topic and, as MM2 would
// copy it, to its target topic: same key, value, header and timestamp.
type msg struct {
	name string
	ts   time.Time
}

// msgs are records named prefix0, prefix1, ... one millisecond apart.
func msgs(prefix string, from, n int) []msg {
	base := time.UnixMilli(1_750_000_000_000)
	out := make([]msg, n)
	for i := range out {
		out[i] = msg{name: fmt.Sprintf("%s%d", prefix, from+i), ts: base.Add(time.Duration(from+i) * time.Millisecond)}
	}
	return out
}

func (m msg) message() localkafka.Message {
	return localkafka.Message{Key: []byte(m.name), Value: []byte("value of " + m.name),
		Headers: map[string]string{"origin": m.name}, Timestamp: m.ts}
}

func messagesOf(ms []msg) []localkafka.Message {
	out := make([]localkafka.Message, len(ms))
	for i, m := range ms {
		out[i] = m.message()
	}
	return out
}

// write sends ms to one partition outside any transaction.
func (k *kit) write(topic string, partition int32, ms ...msg) {
	k.tb.Helper()
	require.NoError(k.tb, k.Send(topic, partition, messagesOf(ms)...))
}

// writeTxn sends ms in one transaction, committed or aborted: either way a
// control record follows and takes an offset.
func (k *kit) writeTxn(topic string, partition int32, commit bool, ms ...msg) {
	k.tb.Helper()
	require.NoError(k.tb, k.SendTxn(topic, partition, commit, messagesOf(ms)...))
}

// TestGivenRealBrokerWhenCutoverThenExactOffsetsAreWrittenAndProved plays
// the consumer and producer phases of a cutover on one broker: "orders" and
// "payments" are the source, "old.orders" and "old.payments" the copies
// written as MM2 would (an exactly-once MM2's transactions on old.orders/0,
// so markers occupy target offsets; a transactional source with an aborted
// transaction on payments, which a read_committed MM2 does not copy), with
// MM2's Connect offsets and coarse checkpoints written in its formats.
func TestGivenRealBrokerWhenCutoverThenExactOffsetsAreWrittenAndProved(t *testing.T) {
	c := requireKafka(t, "cutover", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	k := newKit(t, c)
	flow := mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true, ReadCommitted: true,
		Filter: mm2.Filter{Topics: []string{"orders", "payments"}, Groups: []string{".*"}, GroupsExclude: []string{"__.*"}}}
	for _, tc := range []struct {
		name       string
		partitions int32
		compacted  bool
	}{{"orders", 2, false}, {"old.orders", 2, false}, {"payments", 1, false}, {"old.payments", 1, false},
		{flow.ConnectOffsetsTopic(), 3, true}, {flow.CheckpointsTopic(), 1, true}} {
		k.createTopic(tc.name, tc.partitions, tc.compacted)
	}
	k.waitTopics("orders", "old.orders", "payments", "old.payments", flow.ConnectOffsetsTopic(), flow.CheckpointsTopic())

	cl := mustDial(t, ctx, c)
	// orders/0: r0..r29 on the source; on the target r0..r9 plain (0-9),
	// r10..r19 in a transaction (10-19, marker 20), r20..r24 in another
	// (21-25, marker 26), r25..r29 plain (27-31).
	r := msgs("r", 0, 30)
	k.write("orders", 0, r...)
	k.write("old.orders", 0, r[:10]...)
	k.writeTxn("old.orders", 0, true, r[10:20]...)
	k.writeTxn("old.orders", 0, true, r[20:25]...)
	k.write("old.orders", 0, r[25:]...)
	// orders/1: s0..s4, copied plainly.
	s := msgs("s", 0, 5)
	k.write("orders", 1, s...)
	k.write("old.orders", 1, s...)
	// payments/0: a b committed (0-1, marker 2), x aborted (3, marker 4),
	// c plain (5). A read_committed MM2 copied a b c.
	p := msgs("p", 0, 4)
	k.writeTxn("payments", 0, true, p[0], p[1])
	k.writeTxn("payments", 0, false, p[2])
	k.write("payments", 0, p[3])
	k.write("old.payments", 0, p[0], p[1], p[3])

	k.send(flow.ConnectOffsetsTopic(), 0,
		kv(mm2test.ConnectKey("old", "orders", 0), mm2test.ConnectValue(29)),
		kv(mm2test.ConnectKey("old", "orders", 1), mm2test.ConnectValue(4)),
		kv(mm2test.ConnectKey("old", "payments", 0), mm2test.ConnectValue(5)))
	// Coarse checkpoints, as MM2 translates through a sync every 10 records.
	k.send(flow.CheckpointsTopic(), 0,
		kv(mm2test.CheckpointKey("billing", "old.orders", 0), mm2test.CheckpointValue(25, 10, "")),
		kv(mm2test.CheckpointKey("shop", "old.orders", 0), mm2test.CheckpointValue(30, 27, "")))
	k.commit("billing", map[kafka.TopicPartition]int64{tp("orders", 0): 25, tp("payments", 0): 5})
	k.commit("shop", map[kafka.TopicPartition]int64{tp("orders", 0): 30, tp("orders", 1): 0, tp("payments", 0): 6})

	begin := time.Now()
	gates, err := (&Pair{Source: cl, Target: cl}).Gates(ctx, flow, nil)
	require.NoError(t, err)
	assert.Empty(t, gates.Blockers)
	assert.Equal(t, []string{"billing", "shop"}, gates.Groups)
	t.Logf("gates: %v", time.Since(begin))

	begin = time.Now()
	got, err := (&Pair{Source: cl, Target: cl}).ExactOffsets(ctx, flow, []string{"billing", "shop"}, ScanLimit{})
	require.NoError(t, err)
	t.Logf("exact offsets: %v", time.Since(begin))
	type row struct {
		group, topic                          string
		partition                             int32
		committed, checkpoint, exact, replays int64
		how                                   string
	}
	var rows []row
	for _, g := range got {
		require.NoError(t, g.Err)
		for _, p := range g.Partitions {
			require.NoError(t, p.Err, "%s %s/%d", g.Group, p.Topic, p.Partition)
			rows = append(rows, row{g.Group, p.Topic, p.Partition, p.SourceCommitted, p.Checkpoint, p.Exact, p.ReplaysAvoided, p.How})
		}
	}
	below, at := "copy of the last record below", "copy of the first record at or after"
	assert.Equal(t, []row{
		// r24 is at 25: 16 offsets past MM2's 10, but 15 records (marker at 20).
		{"billing", "orders", 0, 25, 10, 26, 15, below},
		// b (1) is the last record below 5 that MM2 copied: x (3) was aborted.
		{"billing", "payments", 0, 5, -1, 2, -1, below},
		// Committed at the log end: r29 at 31.
		{"shop", "orders", 0, 30, 27, 32, 5, below},
		// Nothing consumed: s0's copy.
		{"shop", "orders", 1, 0, -1, 0, -1, at},
		// Committed at the log end: c (5) is at 2.
		{"shop", "payments", 0, 6, -1, 3, -1, below},
	}, rows)

	// Write billing's exact offsets and read them back.
	require.NoError(t, (&Pair{Target: cl}).WriteGroupOffsets(ctx, "billing", got[0].Targets()))
	orders, err := k.GroupOffsets("billing", "old.orders", 1)
	require.NoError(t, err)
	payments, err := k.GroupOffsets("billing", "old.payments", 1)
	require.NoError(t, err)
	assert.Equal(t, int64(26), orders[0])
	assert.Equal(t, int64(2), payments[0])

	// A group with a live consumer on the target is refused.
	live, err := k.StartConsumer(ctx, "live", "old.orders")
	require.NoError(t, err)
	require.NoError(t, k.WaitGroupStable(ctx, "live", 1))
	err = (&Pair{Target: cl}).WriteGroupOffsets(ctx, "live", []TargetOffset{{Topic: "old.orders", Partition: 0, Offset: 1}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot write offsets of group live: it is active on the target (Stable, 1 members)")
	require.NoError(t, live.Stop())

	// Producer phase: the source is quiet and every partition is equal.
	moved, err := (&Pair{Source: cl}).Quiet(ctx, flow, 300*time.Millisecond)
	require.NoError(t, err)
	assert.Empty(t, moved)
	begin = time.Now()
	// Sampled as a large partition would be (these are read whole by default:
	// smaller than what their windows would fetch).
	v, err := verifyPartitions(ctx, cl, cl, flow, verifyOptions{SampleSize: 5, WholeBelow: -1})
	require.NoError(t, err)
	t.Logf("verify: %v", time.Since(begin))
	require.Len(t, v.Partitions, 3)
	for _, pc := range v.Partitions {
		require.NoError(t, pc.Err, "%s/%d", pc.Topic, pc.Partition)
		assert.True(t, pc.Equal, "%+v", pc)
	}
	assert.True(t, v.Equal)
	assert.Equal(t, CountedByRecords, v.Partitions[0].CountedBy, "markers on old.orders/0")
	assert.Equal(t, CountedByOffsets, v.Partitions[1].CountedBy, "orders/1 is dense on both sides")
	assert.Equal(t, CountedByRecords, v.Partitions[2].CountedBy, "markers and an aborted record on payments/0")
	assert.Equal(t, int64(3), v.Partitions[2].SourceRecords, "a, b, c: x was aborted")
	assert.Equal(t, int64(38), v.SourceRecords)

	// One more record on the source, not copied: that partition differs.
	k.write("orders", 1, msgs("s", 5, 1)...)
	v, err = (&Pair{Source: cl, Target: cl}).Verify(ctx, flow, 5, nil)
	require.NoError(t, err)
	assert.False(t, v.Equal)
	assert.True(t, v.Partitions[0].Equal)
	assert.False(t, v.Partitions[1].Equal)
	assert.Equal(t, int64(6), v.Partitions[1].SourceRecords)
	assert.Equal(t, int64(5), v.Partitions[1].TargetRecords)
	assert.True(t, v.Partitions[2].Equal)

	// A group that consumed that record: MM2 has not copied it, the gates
	// say so.
	k.commit("late", map[kafka.TopicPartition]int64{tp("orders", 1): 6})
	gates, err = (&Pair{Source: cl, Target: cl}).Gates(ctx, flow, []string{"late"})
	require.NoError(t, err)
	assert.Equal(t, []string{"partition orders/1 not yet copied up to committed offset 6 (MM2 at 4)"}, gates.Blockers)
}

func mustDial(tb testing.TB, ctx context.Context, c *localkafka.Cluster) *kafka.Cluster {
	tb.Helper()
	cl, err := kafka.Dial(ctx, adminAccess(c))
	require.NoError(tb, err)
	tb.Cleanup(func() { cl.Close() })
	return cl
}
