package migration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/mm2/mm2test"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testFlow = mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true, Filter: mm2.DefaultFilter()}

func tp(t string, p int32) kafka.TopicPartition { return kafka.TopicPartition{Topic: t, Partition: p} }

func kv(k, v []byte) [2][]byte { return [2][]byte{k, v} }

// migrationFixture is a source and a target in the middle of a migration,
// every figure chosen so each rule of the arithmetic shows.
func migrationFixture() (src, tgt *fakeCluster) {
	src = newFakeCluster(1, 2, 3)
	src.addTopic("orders", 4)
	src.addTopic("payments", 2)
	src.addTopic("new.loop", 1) // came from the target: not mirrored
	src.addTopic("__consumer_offsets", 5)
	src.setOffsets("orders", 0, 0, 100)    // MM2 at 99: caught up
	src.setOffsets("orders", 1, 0, 100)    // MM2 at 49: 50 behind
	src.setOffsets("orders", 2, 10, 30)    // MM2 not started here: whole backlog 20
	src.setOffsets("orders", 3, 50, 60)    // MM2 at 20, retention removed 21..49: 10 behind
	src.setOffsets("payments", 0, 0, 0)    // empty
	src.setOffsets("payments", 1, 0, 5)    // MM2's offset tombstoned: 5 behind
	src.setOffsets("new.loop", 0, 0, 1000) // ignored
	src.addGroup("billing", "Empty", 0, map[kafka.TopicPartition]int64{tp("orders", 0): 100, tp("orders", 1): 40, tp("unmirrored", 0): 7})
	src.addGroup("shop", "Stable", 2, map[kafka.TopicPartition]int64{tp("orders", 2): 25})
	src.addGroup("idle", "Empty", 0, nil)
	src.addGroup("console-consumer-1", "Empty", 0, map[kafka.TopicPartition]int64{tp("orders", 0): 1})
	src.groups["connect-mm2"] = &fakeGroup{protocol: "connect", state: "Stable", members: 1}

	tgt = newFakeCluster(1, 2)
	tgt.addTopic("mm2-offsets.old.internal", 3)
	tgt.addTopic("old.checkpoints.internal", 1)
	tgt.addTopic("__consumer_offsets", 3)
	tgt.fetchRecords = 2 // several Fetch rounds
	tgt.append("mm2-offsets.old.internal", 0,
		kv(mm2test.ConnectKey("old", "orders", 0), mm2test.ConnectValue(10)),
		kv(mm2test.ConnectKey("old", "orders", 0), mm2test.ConnectValue(99)), // last value wins
		kv([]byte(`["MirrorCheckpointConnector",{"cluster":"old","topic":"x","partition":0}]`), mm2test.ConnectValue(0)),
		kv(mm2test.ConnectKey("other", "orders", 1), mm2test.ConnectValue(5)), // another flow's key
	)
	tgt.append("mm2-offsets.old.internal", 1,
		kv(mm2test.ConnectKey("old", "orders", 1), mm2test.ConnectValue(49)),
		kv(mm2test.ConnectKey("old", "payments", 1), mm2test.ConnectValue(3)),
		kv(mm2test.ConnectKey("old", "payments", 1), nil), // tombstone
		kv([]byte(`["MirrorHeartbeatConnector",{"sourceClusterAlias":"old","targetClusterAlias":"new"}]`), mm2test.ConnectValue(0)),
	)
	tgt.append("mm2-offsets.old.internal", 2,
		kv(mm2test.ConnectKey("old", "orders", 3), mm2test.ConnectValue(20)),
	)
	tgt.append("old.checkpoints.internal", 0,
		kv(mm2test.CheckpointKey("billing", "old.orders", 1), mm2test.CheckpointValue(30, 29, "")),
		kv(mm2test.CheckpointKey("billing", "old.orders", 0), mm2test.CheckpointValue(100, 100, "")),
		kv(mm2test.CheckpointKey("billing", "old.orders", 1), mm2test.CheckpointValue(40, 38, "")),
		kv(mm2test.CheckpointKey("shop", "old.orders", 2), mm2test.CheckpointValue(20, 20, "")),
		kv(mm2test.CheckpointKey("gone", "old.orders", 2), mm2test.CheckpointValue(1, 1, "")),
		kv(mm2test.CheckpointKey("gone", "old.orders", 2), nil),
	)
	tgt.ends[tp("old.checkpoints.internal", 0)] += 2 // a trailing transaction marker
	tgt.addGroup("billing", "Empty", 0, map[kafka.TopicPartition]int64{tp("old.orders", 0): 100, tp("old.orders", 1): 38})
	tgt.addGroup("shop", "Empty", 0, map[kafka.TopicPartition]int64{tp("old.orders", 2): 20})
	return src, tgt
}

func TestGivenMigrationInProgressWhenMeasuredThenFiguresAreExact(t *testing.T) {
	src, tgt := migrationFixture()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	v, err := measure(context.Background(), src, tgt, testFlow, now, nil, false)
	require.NoError(t, err)

	assert.Empty(t, v.Errors)
	assert.True(t, v.Complete())
	assert.True(t, v.MirrorStarted)
	assert.Equal(t, now, v.Taken)
	type lagRow struct {
		topic                       string
		p                           int32
		start, end, committed, lagN int64
	}
	var got []lagRow
	for _, p := range v.Partitions {
		require.NoError(t, p.Err)
		got = append(got, lagRow{p.Topic, p.Partition, p.SourceStart, p.SourceEnd, p.Committed, p.Lag})
	}
	assert.Equal(t, []lagRow{
		{"orders", 0, 0, 100, 99, 0},
		{"orders", 1, 0, 100, 49, 50},
		{"orders", 2, 10, 30, -1, 20},
		{"orders", 3, 50, 60, 20, 10},
		{"payments", 0, 0, 0, -1, 0},
		{"payments", 1, 0, 5, -1, 5},
	}, got)
	assert.Equal(t, int64(85), v.RecordsBehind)
	assert.Equal(t, 2, v.PartitionsCaughtUp)
	assert.Equal(t, 0, v.PartitionsUnknown)
	assert.False(t, v.CaughtUp())
	assert.Equal(t, []TopicLag{
		{Topic: "orders", TargetTopic: "old.orders", Partitions: 4, Lag: 80},
		{Topic: "payments", TargetTopic: "old.payments", Partitions: 2, Lag: 5},
	}, v.Topics)

	require.Len(t, v.Groups, 3) // billing, idle, shop: console-consumer-* excluded, connect group not a consumer group
	billing, idle, shop := v.Groups[0], v.Groups[1], v.Groups[2]
	assert.Equal(t, "billing", billing.Group)
	assert.True(t, billing.Counted)
	assert.True(t, billing.Synced)
	assert.Equal(t, []GroupPartition{
		{Topic: "orders", Partition: 0, SourceCommitted: 100, TargetCommitted: 100, Synced: true,
			Checkpoint: &mm2.Checkpoint{Group: "billing", Topic: "old.orders", Partition: 0, UpstreamOffset: 100, DownstreamOffset: 100}},
		{Topic: "orders", Partition: 1, SourceCommitted: 40, TargetCommitted: 38, Synced: true,
			Checkpoint: &mm2.Checkpoint{Group: "billing", Topic: "old.orders", Partition: 1, UpstreamOffset: 40, DownstreamOffset: 38}},
	}, billing.Partitions)
	assert.Equal(t, "Empty", billing.SourceState)
	assert.Equal(t, "Empty", billing.TargetState)

	assert.Equal(t, "idle", idle.Group)
	assert.False(t, idle.Counted)
	assert.False(t, idle.Synced)
	assert.Equal(t, "Dead", idle.TargetState)

	assert.Equal(t, "shop", shop.Group)
	assert.True(t, shop.Counted)
	assert.False(t, shop.Synced, "checkpoint translated 20, the group is at 25")
	assert.Equal(t, "Stable", shop.SourceState)
	assert.Equal(t, 2, shop.SourceMembers)

	assert.Equal(t, 2, v.GroupsCounted)
	assert.Equal(t, 1, v.GroupsSynced)
	assert.False(t, v.AllGroupsSynced())
}

func TestGivenMM2NotStartedWhenMeasuredThenWholeBacklogCounts(t *testing.T) {
	src, _ := migrationFixture()
	tgt := newFakeCluster(1)
	v, err := measure(context.Background(), src, tgt, testFlow, time.Now(), nil, false)
	require.NoError(t, err)
	assert.Empty(t, v.Errors)
	assert.False(t, v.MirrorStarted)
	assert.Equal(t, int64(100+100+20+10+0+5), v.RecordsBehind)
	assert.Equal(t, 2, v.GroupsCounted)
	assert.Equal(t, 0, v.GroupsSynced)
}

func TestGivenFaultsWhenMeasuredThenViewDegradesAndNamesTheItem(t *testing.T) {
	boom := errors.New("connection refused")
	for _, tc := range []struct {
		name    string
		break_  func(src, tgt *fakeCluster) (tgtWire wire)
		unknown int      // partitions of unknown lag
		behind  int64    // sum of known lags
		items   []string // ItemError items expected (prefixes)
		synced  int
	}{
		{
			name:    "a source broker is down",
			break_:  func(src, tgt *fakeCluster) wire { src.down[2] = boom; return tgt },
			unknown: 2, behind: 0 + 20 + 10 + 0, // orders/1 and payments/1 are led by broker 2
			items: []string{"source broker 2"}, synced: 0,
		}, {
			name:    "no target",
			break_:  func(src, tgt *fakeCluster) wire { return nil },
			unknown: 6, behind: 0, items: []string{"target"}, synced: 0,
		}, {
			name:    "target cannot describe itself",
			break_:  func(src, tgt *fakeCluster) wire { tgt.metaErr = boom; return tgt },
			unknown: 6, behind: 0, items: []string{"target"}, synced: 0,
		}, {
			name: "one partition of the Connect offsets is unreadable",
			break_: func(src, tgt *fakeCluster) wire {
				tgt.topics["mm2-offsets.old.internal"][1].Leader = -1
				return tgt
			},
			unknown: 6, behind: 0, items: []string{"target partition mm2-offsets.old.internal/1"}, synced: 1,
		}, {
			name: "the checkpoints topic cannot be described",
			break_: func(src, tgt *fakeCluster) wire {
				tgt.topicErrs["old.checkpoints.internal"] = errors.New("topic authorization failed")
				delete(tgt.topics, "old.checkpoints.internal")
				return tgt
			},
			unknown: 0, behind: 85, items: []string{"target topic old.checkpoints.internal"}, synced: 0,
		}, {
			name:    "a target broker is down",
			break_:  func(src, tgt *fakeCluster) wire { tgt.down[2] = boom; return tgt },
			unknown: 6, behind: 0, items: []string{"target broker 2"}, synced: -1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, tgt := migrationFixture()
			v, err := measure(context.Background(), src, tc.break_(src, tgt), testFlow, time.Now(), nil, false)
			require.NoError(t, err)
			assert.False(t, v.Complete())
			assert.Equal(t, tc.unknown, v.PartitionsUnknown)
			assert.Equal(t, tc.behind, v.RecordsBehind)
			for _, want := range tc.items {
				found := false
				for _, e := range v.Errors {
					found = found || strings.HasPrefix(e.Item, want)
				}
				assert.True(t, found, "no error for %q in %v", want, v.Errors)
			}
			for _, p := range v.Partitions {
				assert.Equal(t, p.Lag < 0, p.Err != nil, "%s/%d: lag %d, err %v", p.Topic, p.Partition, p.Lag, p.Err)
			}
			if tc.synced >= 0 {
				assert.Equal(t, tc.synced, v.GroupsSynced)
			}
			assert.False(t, v.CaughtUp())
		})
	}
}

func TestGivenSourceUnreachableWhenMeasuredThenError(t *testing.T) {
	src, tgt := migrationFixture()
	src.metaErr = errors.New("connection refused")
	_, err := measure(context.Background(), src, tgt, testFlow, time.Now(), nil, false)
	assert.ErrorContains(t, err, "cannot describe source cluster: connection refused")
}

func TestGivenInvalidFlowWhenMeasuredThenError(t *testing.T) {
	src, tgt := migrationFixture()
	_, err := measure(context.Background(), src, tgt, mm2.Flow{}, time.Now(), nil, false)
	assert.ErrorContains(t, err, "no source alias")
	_, err = measure(context.Background(), src, tgt, mm2.Flow{SourceAlias: "old", Filter: mm2.Filter{Groups: []string{"["}}}, time.Now(), nil, false)
	assert.ErrorContains(t, err, "cannot compile groups filter")
}

func TestGivenCoordinatorMovedWhenMeasuredThenGroupIsAskedAgain(t *testing.T) {
	src, tgt := migrationFixture()
	right := src.trueCoordinator("billing")
	src.movedTo = map[string]int32{"billing": right%3 + 1}
	v, err := measure(context.Background(), src, tgt, testFlow, time.Now(), nil, false)
	require.NoError(t, err)
	assert.Empty(t, v.Errors)
	assert.Equal(t, 1, v.GroupsSynced)
	assert.Equal(t, 1, src.calls["FindCoordinator"])
}

func TestGivenNoConsumerOffsetsTopicWhenMeasuredThenCoordinatorsAreFound(t *testing.T) {
	src, tgt := migrationFixture()
	delete(tgt.topics, "__consumer_offsets")
	v, err := measure(context.Background(), src, tgt, testFlow, time.Now(), nil, false)
	require.NoError(t, err)
	assert.Empty(t, v.Errors)
	assert.Equal(t, 1, v.GroupsSynced)
	assert.Equal(t, 3, tgt.calls["FindCoordinator"], "one per group")
	assert.Equal(t, 0, src.calls["FindCoordinator"])
}

// scaledCluster is a source with n partitions over three brokers and g
// groups each committed on every partition of one topic.
func scaledCluster(partitionsPerTopic, topics, groups int) (*fakeCluster, *fakeCluster) {
	src := newFakeCluster(1, 2, 3)
	src.addTopic("__consumer_offsets", 50)
	for i := range topics {
		name := fmt.Sprintf("t%03d", i)
		src.addTopic(name, partitionsPerTopic)
		for p := range partitionsPerTopic {
			src.setOffsets(name, int32(p), 0, 5000) // beyond tailCheckMax: no tail reads
		}
	}
	for i := range groups {
		offsets := map[kafka.TopicPartition]int64{}
		for p := range partitionsPerTopic {
			offsets[tp(fmt.Sprintf("t%03d", i%topics), int32(p))] = 500
		}
		src.addGroup(fmt.Sprintf("g%04d", i), "Empty", 0, offsets)
	}
	tgt := newFakeCluster(1, 2, 3)
	tgt.addTopic("__consumer_offsets", 50)
	tgt.addTopic("mm2-offsets.old.internal", 25)
	tgt.addTopic("old.checkpoints.internal", 1)
	return src, tgt
}

func TestRequestsDoNotGrowWithPartitionsOrGroups(t *testing.T) {
	count := func(partitionsPerTopic, topics, groups int) (src, tgt map[string]int) {
		s, g := scaledCluster(partitionsPerTopic, topics, groups)
		v, err := measure(context.Background(), s, g, testFlow, time.Now(), nil, false)
		require.NoError(t, err)
		require.Empty(t, v.Errors)
		require.Len(t, v.Partitions, partitionsPerTopic*topics)
		return s.calls, g.calls
	}
	smallSrc, smallTgt := count(3, 3, 3)
	bigSrc, bigTgt := count(100, 30, 300)
	assert.Equal(t, smallTgt, bigTgt, "target requests")
	for _, kind := range []string{"Metadata", "ListOffsets", "ListGroups", "FindCoordinator"} {
		assert.Equal(t, smallSrc[kind], bigSrc[kind], kind)
	}
	// Per broker: one Metadata in all, two ListOffsets (earliest, latest) per
	// leader, one ListGroups, and at most one OffsetFetch and DescribeGroups
	// per coordinator, however many partitions and groups.
	for _, b := range []int32{1, 2, 3} {
		assert.Equal(t, 2, bigSrc[fmt.Sprintf("ListOffsets@%d", b)])
		assert.Equal(t, 1, bigSrc[fmt.Sprintf("ListGroups@%d", b)])
		assert.Equal(t, 1, bigSrc[fmt.Sprintf("OffsetFetch@%d", b)])
		assert.Equal(t, 1, bigSrc[fmt.Sprintf("DescribeGroups@%d", b)])
	}
	assert.Equal(t, 1, bigSrc["Metadata"])
	assert.Equal(t, 0, bigSrc["FindCoordinator"])
	assert.LessOrEqual(t, bigSrc["OffsetFetch"], 3)
}

func TestReadingInternalTopicsTakesRoundsByDataNotPartitions(t *testing.T) {
	_, tgt := scaledCluster(1, 1, 0)
	tgt.fetchRecords = 10
	for p := range int32(25) {
		for i := range 35 {
			tgt.append("mm2-offsets.old.internal", p, kv(mm2test.ConnectKey("old", "t000", 0), mm2test.ConnectValue(int64(i))))
		}
	}
	errs := &itemErrors{}
	meta, err := tgt.Metadata(context.Background())
	require.NoError(t, err)
	read := newSide("target", tgt, meta, errs).readTopics(context.Background(), []string{"mm2-offsets.old.internal"}, nil)
	assert.Empty(t, errs.list)
	r := read["mm2-offsets.old.internal"]
	require.True(t, r.found)
	for p := range int32(25) {
		require.Len(t, r.records[p], 35)
		assert.Equal(t, int64(34), r.records[p][34].Offset)
	}
	// 35 records at 10 a round: 4 rounds, one Fetch per leader per round.
	for _, b := range []int32{1, 2, 3} {
		assert.Equal(t, 4, tgt.calls[fmt.Sprintf("Fetch@%d", b)])
	}
}

func TestGivenTransactionMarkersWhenTailIsShortThenLagCountsRecords(t *testing.T) {
	src := newFakeCluster(1, 2)
	src.addTopic("tx", 3)
	src.setOffsets("tx", 0, 0, 10) // MM2 at 7; 8 is a record, 9 a commit marker
	src.markers[tp("tx", 0)] = map[int64]bool{9: true}
	src.setOffsets("tx", 1, 0, 3) // MM2 at 1; 2 is a marker: fully mirrored
	src.markers[tp("tx", 1)] = map[int64]bool{2: true}
	src.setOffsets("tx", 2, 0, 5000) // long tail: offset count
	src.markers[tp("tx", 2)] = map[int64]bool{4999: true}
	tgt := newFakeCluster(1)
	tgt.addTopic("mm2-offsets.old.internal", 1)
	tgt.append("mm2-offsets.old.internal", 0,
		kv(mm2test.ConnectKey("old", "tx", 0), mm2test.ConnectValue(7)),
		kv(mm2test.ConnectKey("old", "tx", 1), mm2test.ConnectValue(1)),
		kv(mm2test.ConnectKey("old", "tx", 2), mm2test.ConnectValue(10)))

	for _, readCommitted := range []bool{false, true} {
		flow := testFlow
		flow.ReadCommitted = readCommitted
		v, err := measure(context.Background(), src, tgt, flow, time.Now(), nil, false)
		require.NoError(t, err)
		require.Empty(t, v.Errors)
		lags := []int64{}
		for _, p := range v.Partitions {
			lags = append(lags, p.Lag)
		}
		assert.Equal(t, []int64{1, 0, 4989}, lags, "read committed: %v", readCommitted)
		assert.Equal(t, 1, v.PartitionsCaughtUp)
	}
	assert.Equal(t, 2, src.calls["Fetch@1"], "one Fetch per leader for all short tails")
}

func TestLag(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		start, end, committed int64
		want                  int64
	}{
		{"nothing replicated: whole backlog", 0, 100, -1, 100},
		{"nothing replicated, log start moved", 40, 100, -1, 60},
		{"committed at the end", 0, 100, 99, 0},
		{"half way", 0, 100, 49, 50},
		{"first record replicated", 0, 100, 0, 99},
		{"retention removed records MM2 never read", 50, 60, 20, 10},
		{"compaction gap: offsets, not records, are counted", 0, 100, 89, 10},
		{"empty partition", 0, 0, -1, 0},
		{"empty after retention", 70, 70, 10, 0},
		{"committed past the end (topic recreated)", 0, 10, 50, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, lag(tc.start, tc.end, tc.committed))
		})
	}
}

func TestGroupPartitionSynced(t *testing.T) {
	ck := func(up, down int64) *mm2.Checkpoint {
		return &mm2.Checkpoint{UpstreamOffset: up, DownstreamOffset: down}
	}
	for _, tc := range []struct {
		name string
		gp   GroupPartition
		want bool
	}{
		{"translated and applied", GroupPartition{SourceCommitted: 40, TargetCommitted: 38, Checkpoint: ck(40, 38)}, true},
		{"no checkpoint yet", GroupPartition{SourceCommitted: 40, TargetCommitted: -1}, false},
		{"checkpoint of an older position", GroupPartition{SourceCommitted: 40, TargetCommitted: 30, Checkpoint: ck(31, 30)}, false},
		{"checkpoint not applied to the target group", GroupPartition{SourceCommitted: 40, TargetCommitted: -1, Checkpoint: ck(40, 38)}, false},
		{"target group moved on", GroupPartition{SourceCommitted: 40, TargetCommitted: 45, Checkpoint: ck(40, 38)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, groupPartitionSynced(tc.gp))
		})
	}
}

// A source topic recreated after MM2 copied it leaves MM2's Connect offset past the new end:
// the partition's lag is unknown, with the reason, never 0 ("in sync").
func TestGivenAConnectOffsetPastTheSourceEndWhenMeasuredThenTheLagIsUnknownNotZero(t *testing.T) {
	src, tgt := migrationFixture()
	src.setOffsets("orders", 0, 0, 40) // recreated: MM2 said 99
	v, err := measure(context.Background(), src, tgt, testFlow, time.Now(), nil, false)
	require.NoError(t, err)
	var p PartitionLag
	for _, pl := range v.Partitions {
		if pl.Topic == "orders" && pl.Partition == 0 {
			p = pl
		}
	}
	assert.Equal(t, int64(-1), p.Lag)
	require.Error(t, p.Err)
	assert.Contains(t, p.Err.Error(), "MM2's position 99 is past the source's end 40")
	assert.False(t, v.CaughtUp())
	assert.Contains(t, fmt.Sprint(v.Errors), "source partition orders/0: MM2's position 99", "named, so the gates hold")
}

// A group committed below the source's log start gets no checkpoint from MM2, ever (MM2 3.9
// drops a translation below its first offset sync): the view says only the cutover can move it,
// and why every other unsynced group is not synced.
func TestGivenGroupsMM2CannotSyncWhenMeasuredThenTheViewSaysWhy(t *testing.T) {
	src, tgt := migrationFixture()
	// orders/2 starts at 10: "late" committed 5 there, and 3 on orders/3 (start 50) too.
	src.addGroup("late", "Empty", 0, map[kafka.TopicPartition]int64{tp("orders", 2): 5, tp("orders", 3): 3, tp("orders", 1): 60})
	v, err := measure(context.Background(), src, tgt, testFlow, time.Now(), nil, false)
	require.NoError(t, err)
	byName := map[string]GroupView{}
	for _, g := range v.Groups {
		byName[g.Group] = g
	}
	late, shop, billing := byName["late"], byName["shop"], byName["billing"]
	assert.True(t, late.CutoverOnly)
	assert.Equal(t, "no checkpoint from MM2 yet (it gives none for an offset before the first offset sync it keeps) on 1/3 partitions; "+
		"committed below the source's log start, which MM2 never checkpoints on 2/3 partitions", late.Unsynced())
	assert.False(t, shop.CutoverOnly)
	assert.Equal(t, "MM2's checkpoint is of an earlier commit on 1/1 partitions", shop.Unsynced())
	assert.Equal(t, "", billing.Unsynced())
	assert.Equal(t, 3, v.GroupsCounted)
	assert.Equal(t, 1, v.GroupsSynced)
	assert.Equal(t, 1, v.GroupsCutoverOnly)
}

func TestUnsyncedReason(t *testing.T) {
	ck := func(up, down int64) *mm2.Checkpoint {
		return &mm2.Checkpoint{UpstreamOffset: up, DownstreamOffset: down}
	}
	for _, tc := range []struct {
		name  string
		gp    GroupPartition
		start int64
		want  string
	}{
		{"synced", GroupPartition{SourceCommitted: 40, TargetCommitted: 38, Checkpoint: ck(40, 38), Synced: true}, 0, ""},
		{"below the log start, no checkpoint", GroupPartition{SourceCommitted: 4, TargetCommitted: -1}, 10, UnsyncedBelowLogStart},
		{"at the log start, no checkpoint", GroupPartition{SourceCommitted: 10, TargetCommitted: -1}, 10, UnsyncedNoCheckpoint},
		{"log start unknown", GroupPartition{SourceCommitted: 4, TargetCommitted: -1}, -1, UnsyncedNoCheckpoint},
		{"below the log start with a checkpoint of an earlier commit", GroupPartition{SourceCommitted: 4, TargetCommitted: -1, Checkpoint: ck(3, 1)}, 10, UnsyncedOldCommit},
		{"checkpoint not applied", GroupPartition{SourceCommitted: 40, TargetCommitted: -1, Checkpoint: ck(40, 38)}, 0, UnsyncedTargetDiffers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, unsyncedReason(tc.gp, tc.start))
		})
	}
}
