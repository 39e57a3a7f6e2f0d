package migration

import (
	"context"
	"testing"
	"time"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/mm2/mm2test"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGivenRealBrokerWhenMeasuredThenFiguresAreExact plays a migration on
// one real broker: "orders" is the source topic, "old.orders" its mirror,
// and the test writes MM2's Connect offsets and checkpoints itself (one of
// them inside an aborted transaction), then checks every figure.
func TestGivenRealBrokerWhenMeasuredThenFiguresAreExact(t *testing.T) {
	c := requireKafka(t, "both", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	k := newKit(t, c)
	flow := mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true,
		Filter: mm2.Filter{Topics: []string{"orders"}, Groups: []string{".*"}, GroupsExclude: []string{"__.*"}}}

	k.createTopic("orders", 3, false)
	k.createTopic("old.orders", 3, false)
	k.createTopic(flow.ConnectOffsetsTopic(), 5, true)
	k.createTopic(flow.CheckpointsTopic(), 1, true)
	k.waitTopics("orders", "old.orders", flow.ConnectOffsetsTopic(), flow.CheckpointsTopic())

	k.fill("orders", 0, 10)
	k.fill("orders", 1, 5)
	k.fill("orders", 2, 4)
	require.NoError(t, k.DeleteRecords("orders", map[int32]int64{2: 2})) // log start 2
	k.fill("old.orders", 0, 8)
	k.fill("old.orders", 1, 3)

	offsets := flow.ConnectOffsetsTopic()
	k.send(offsets, 0,
		kv(mm2test.ConnectKey("old", "orders", 0), mm2test.ConnectValue(3)),
		kv(mm2test.ConnectKey("old", "orders", 0), mm2test.ConnectValue(9)),
		kv([]byte(`["MirrorCheckpointConnector",{"cluster":"old","topic":"orders","partition":0}]`), mm2test.ConnectValue(0)))
	k.send(offsets, 3,
		kv(mm2test.ConnectKey("old", "orders", 1), mm2test.ConnectValue(1)),
		kv(mm2test.ConnectKey("old", "orders", 2), mm2test.ConnectValue(1)),
		kv(mm2test.ConnectKey("old", "orders", 2), nil))
	k.sendTxn(offsets, 0, false, kv(mm2test.ConnectKey("old", "orders", 0), mm2test.ConnectValue(0)))

	checkpoints := flow.CheckpointsTopic()
	k.send(checkpoints, 0,
		kv(mm2test.CheckpointKey("billing", "old.orders", 0), mm2test.CheckpointValue(7, 6, "")),
		kv(mm2test.CheckpointKey("shop", "old.orders", 1), mm2test.CheckpointValue(2, 2, "")))

	k.commit("billing", map[kafka.TopicPartition]int64{tp("orders", 0): 7, tp("old.orders", 0): 6})
	k.commit("shop", map[kafka.TopicPartition]int64{tp("orders", 1): 3, tp("old.orders", 1): 2})
	k.commit("other-topics-only", map[kafka.TopicPartition]int64{tp("old.orders", 2): 0})
	groupsBefore := k.consumerGroups()

	source, err := kafka.Dial(ctx, adminAccess(c))
	require.NoError(t, err)
	defer source.Close()
	target, err := kafka.Dial(ctx, adminAccess(c))
	require.NoError(t, err)
	defer target.Close()

	v, err := (&Pair{Source: source, Target: target}).Measure(ctx, flow)
	require.NoError(t, err)
	require.Empty(t, v.Errors)
	assert.True(t, v.MirrorStarted)
	require.Len(t, v.Partitions, 3)
	assert.Equal(t, PartitionLag{Topic: "orders", Partition: 0, SourceStart: 0, SourceEnd: 10, Committed: 9, Lag: 0}, v.Partitions[0],
		"the aborted write of offset 0 is not seen")
	assert.Equal(t, PartitionLag{Topic: "orders", Partition: 1, SourceStart: 0, SourceEnd: 5, Committed: 1, Lag: 3}, v.Partitions[1])
	assert.Equal(t, PartitionLag{Topic: "orders", Partition: 2, SourceStart: 2, SourceEnd: 4, Committed: -1, Lag: 2}, v.Partitions[2],
		"tombstoned progress counts the backlog from the log start")
	assert.Equal(t, int64(5), v.RecordsBehind)
	assert.Equal(t, []TopicLag{{Topic: "orders", TargetTopic: "old.orders", Partitions: 3, Lag: 5}}, v.Topics)

	require.Len(t, v.Groups, 3)
	billing, other, shop := v.Groups[0], v.Groups[1], v.Groups[2]
	assert.Equal(t, "billing", billing.Group)
	assert.True(t, billing.Synced)
	assert.Equal(t, []GroupPartition{{Topic: "orders", Partition: 0, SourceCommitted: 7, TargetCommitted: 6, Synced: true,
		Checkpoint: &mm2.Checkpoint{Group: "billing", Topic: "old.orders", Partition: 0, UpstreamOffset: 7, DownstreamOffset: 6}}}, billing.Partitions)
	assert.Equal(t, "Empty", billing.SourceState)
	assert.Equal(t, 0, billing.SourceMembers)
	assert.Equal(t, "other-topics-only", other.Group)
	assert.False(t, other.Counted)
	assert.Equal(t, "shop", shop.Group)
	assert.False(t, shop.Synced, "checkpoint translated 2, the group is at 3")
	assert.Equal(t, 2, v.GroupsCounted)
	assert.Equal(t, 1, v.GroupsSynced)

	// MM2 catches up and translates shop's final position.
	k.send(offsets, 3,
		kv(mm2test.ConnectKey("old", "orders", 1), mm2test.ConnectValue(4)),
		kv(mm2test.ConnectKey("old", "orders", 2), mm2test.ConnectValue(3)))
	k.send(checkpoints, 0, kv(mm2test.CheckpointKey("shop", "old.orders", 1), mm2test.CheckpointValue(3, 3, "")))
	k.commit("shop", map[kafka.TopicPartition]int64{tp("old.orders", 1): 3})

	v, err = (&Pair{Source: source, Target: target}).Measure(ctx, flow)
	require.NoError(t, err)
	require.Empty(t, v.Errors)
	assert.Equal(t, int64(0), v.RecordsBehind)
	assert.True(t, v.CaughtUp())
	assert.True(t, v.AllGroupsSynced())

	assert.Equal(t, groupsBefore, k.consumerGroups(), "measuring created or joined no group")
}

// TestGivenTransactionalSourceWhenMeasuredThenMarkersDoNotCount: a
// committed transaction (records 0-1, marker 2) and an aborted one (record
// 3, marker 4), with MM2 at offset 1. Offsets say 3 behind; a
// read_uncommitted MM2 still copies the aborted record 3, a read_committed
// one has nothing left.
func TestGivenTransactionalSourceWhenMeasuredThenMarkersDoNotCount(t *testing.T) {
	c := requireKafka(t, "txn", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	k := newKit(t, c)
	flow := mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true, Filter: mm2.Filter{Topics: []string{"payments"}}}
	k.createTopic("payments", 1, false)
	k.createTopic(flow.ConnectOffsetsTopic(), 1, true)
	k.waitTopics("payments", flow.ConnectOffsetsTopic())
	k.sendTxn("payments", 0, true, kv([]byte("a"), []byte("1")), kv([]byte("b"), []byte("2")))
	k.sendTxn("payments", 0, false, kv([]byte("c"), []byte("3")))
	k.send(flow.ConnectOffsetsTopic(), 0, kv(mm2test.ConnectKey("old", "payments", 0), mm2test.ConnectValue(1)))

	cl, err := kafka.Dial(ctx, adminAccess(c))
	require.NoError(t, err)
	defer cl.Close()
	for _, tc := range []struct {
		readCommitted bool
		lag           int64
	}{{false, 1}, {true, 0}} {
		flow.ReadCommitted = tc.readCommitted
		v, err := (&Pair{Source: cl, Target: cl}).Measure(ctx, flow)
		require.NoError(t, err)
		require.Empty(t, v.Errors)
		require.Len(t, v.Partitions, 1)
		p := v.Partitions[0]
		assert.Equal(t, int64(5), p.SourceEnd)
		assert.Equal(t, int64(1), p.Committed)
		assert.Equal(t, tc.lag, p.Lag, "read committed: %v", tc.readCommitted)
		assert.Equal(t, tc.lag == 0, v.CaughtUp())
	}
}

func TestGivenSCRAMUsersWhenDialledThenOnlyTheRightPasswordConnects(t *testing.T) {
	c := requireKafka(t, "auth", nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const hostile = "p\"a's\\s=w:o#r${d} ,n=e\u00e9\u2603 \u00a0tab\there!"
	require.NoError(t, c.CreateUser(ctx, "relation-7", hostile))

	a := kafka.Access{BootstrapServers: c.Addrs(), Username: "relation-7", Password: hostile}
	cl, err := kafka.Dial(ctx, a)
	require.NoError(t, err)
	meta, err := cl.Metadata(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, meta.Brokers)
	require.NoError(t, cl.Close())

	a.Password = "wrong-" + hostile
	_, err = kafka.Dial(ctx, a)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), hostile, "the password never appears in an error")
	assert.Contains(t, err.Error(), "relation-7")
}

func TestGivenNoBrokerWhenDialledThenFailsFast(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	begin := time.Now()
	_, err := kafka.Dial(ctx, kafka.Access{BootstrapServers: []string{"127.0.0.1:1"}, Username: "u", Password: "secret"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret")
	assert.Less(t, time.Since(begin), 10*time.Second)
}
