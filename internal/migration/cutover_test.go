package migration

import (
	"context"
	"errors"
	"testing"
	"time"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/mm2/mm2test"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gatesFixture: "orders" has two partitions of 20 offsets; billing
// committed 15 and 20, shop 10 on partition 0; MM2 has copied up to 19 on
// both.
func gatesFixture() (src, tgt *cutoverFake, flow mm2.Flow) {
	flow = mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true, Filter: mm2.Filter{Topics: []string{"orders"}, Groups: []string{".*"}}}
	src = newCutoverFake(1, 2)
	src.addTopic("orders", 2)
	src.setOffsets("orders", 0, 0, 20)
	src.setOffsets("orders", 1, 0, 20)
	src.addGroup("billing", "Empty", 0, map[kafka.TopicPartition]int64{tp("orders", 0): 15, tp("orders", 1): 20})
	src.addGroup("shop", "Empty", 0, map[kafka.TopicPartition]int64{tp("orders", 0): 10})
	src.addGroup("idle", "Empty", 0, nil)
	tgt = newCutoverFake(1)
	tgt.addTopic("old.orders", 2)
	tgt.addTopic(flow.ConnectOffsetsTopic(), 1)
	tgt.append(flow.ConnectOffsetsTopic(), 0,
		kv(mm2test.ConnectKey("old", "orders", 0), mm2test.ConnectValue(19)),
		kv(mm2test.ConnectKey("old", "orders", 1), mm2test.ConnectValue(19)))
	return src, tgt, flow
}

func TestGivenAGroupStateWhenGatesAreJudgedThenEveryBlockerIsNamed(t *testing.T) {
	for _, tc := range []struct {
		name     string
		groups   []string
		change   func(src, tgt *cutoverFake, flow mm2.Flow)
		blockers []string
		ready    []string // the groups that may move although others may not
	}{{
		name:  "all quiet and copied: open",
		ready: []string{"billing", "shop"},
	}, {
		name:   "named groups, open",
		groups: []string{"shop", "billing"},
		ready:  []string{"billing", "shop"},
	}, {
		name: "consumers still running on the source",
		change: func(src, tgt *cutoverFake, flow mm2.Flow) {
			src.groups["billing"].state, src.groups["billing"].members = "Stable", 2
			src.groups["shop"].state = "PreparingRebalance"
		},
		blockers: []string{"group billing still has 2 active members on the source", "group shop is PreparingRebalance on the source"},
	}, {
		name: "consumers already running on the target",
		change: func(src, tgt *cutoverFake, flow mm2.Flow) {
			tgt.addGroup("shop", "Stable", 1, nil)
		},
		blockers: []string{"group shop is active on the target (Stable, 1 members)"},
		ready:    []string{"billing"},
	}, {
		name: "MM2 behind one group's committed offset: only that group waits",
		change: func(src, tgt *cutoverFake, flow mm2.Flow) {
			tgt.append(flow.ConnectOffsetsTopic(), 0, kv(mm2test.ConnectKey("old", "orders", 0), mm2test.ConnectValue(12)))
		},
		blockers: []string{"partition orders/0 not yet copied up to committed offset 15 (MM2 at 12)"},
		ready:    []string{"shop"},
	}, {
		name: "MM2 behind both groups' committed offsets: each is named with its own",
		change: func(src, tgt *cutoverFake, flow mm2.Flow) {
			tgt.append(flow.ConnectOffsetsTopic(), 0, kv(mm2test.ConnectKey("old", "orders", 0), mm2test.ConnectValue(5)))
		},
		blockers: []string{"partition orders/0 not yet copied up to committed offset 10 (MM2 at 5)",
			"partition orders/0 not yet copied up to committed offset 15 (MM2 at 5)"},
	}, {
		name:   "MM2 behind only a group not judged",
		groups: []string{"shop"},
		change: func(src, tgt *cutoverFake, flow mm2.Flow) {
			tgt.append(flow.ConnectOffsetsTopic(), 0, kv(mm2test.ConnectKey("old", "orders", 0), mm2test.ConnectValue(12)))
		},
		ready: []string{"shop"},
	}, {
		name: "MM2 copied nothing of a partition",
		change: func(src, tgt *cutoverFake, flow mm2.Flow) {
			tgt.append(flow.ConnectOffsetsTopic(), 0, kv(mm2test.ConnectKey("old", "orders", 1), nil))
		},
		blockers: []string{"partition orders/1 not yet copied up to committed offset 20 (MM2 has copied nothing)"},
		ready:    []string{"shop"},
	}, {
		name: "only transaction markers left below the committed offset: open",
		change: func(src, tgt *cutoverFake, flow mm2.Flow) {
			tgt.append(flow.ConnectOffsetsTopic(), 0, kv(mm2test.ConnectKey("old", "orders", 0), mm2test.ConnectValue(12)))
			src.markers[tp("orders", 0)] = map[int64]bool{13: true, 14: true}
		},
		ready: []string{"billing", "shop"},
	}, {
		name:   "a named group that is not there, or committed nothing",
		groups: []string{"billing", "nope", "idle"},
		blockers: []string{"group idle has no committed offsets on mirrored partitions",
			"group nope not found on the source (or not selected by the flow's group filter)"},
		ready: []string{"billing"},
	}, {
		name: "what cannot be measured blocks",
		change: func(src, tgt *cutoverFake, flow mm2.Flow) {
			tgt.metaErr = errors.New("unreachable")
		},
		blockers: []string{"cannot measure target: cannot describe target cluster: unreachable"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			src, tgt, flow := gatesFixture()
			if tc.change != nil {
				tc.change(src, tgt, flow)
			}
			view, err := measure(context.Background(), src, tgt, flow, time.Now(), nil, false)
			require.NoError(t, err)
			g := cutoverGates(context.Background(), src, flow, view, tc.groups)
			assert.Equal(t, tc.blockers, g.Blockers)
			assert.Equal(t, len(tc.blockers) == 0, g.Open())
			assert.Equal(t, tc.ready, g.Ready(), "groups that may move alone")
		})
	}
}

func TestGivenAnEmptyTargetGroupWhenOffsetsAreWrittenThenTheyReadBack(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(tgt *cutoverFake)
		offsets []TargetOffset
		err     string
	}{{
		name:    "absent group",
		offsets: []TargetOffset{{"old.orders", 0, 7}, {"old.orders", 1, 0}},
	}, {
		name: "empty group with MM2's coarser offsets",
		change: func(tgt *cutoverFake) {
			tgt.addGroup("g", "Empty", 0, map[kafka.TopicPartition]int64{tp("old.orders", 0): 3})
		},
		offsets: []TargetOffset{{"old.orders", 0, 7}},
	}, {
		name:    "active group",
		change:  func(tgt *cutoverFake) { tgt.addGroup("g", "Stable", 2, nil) },
		offsets: []TargetOffset{{"old.orders", 0, 7}},
		err:     "cannot write offsets of group g: it is active on the target (Stable, 2 members)",
	}, {
		name:    "unknown partition refused",
		offsets: []TargetOffset{{"old.orders", 0, 7}, {"old.nope", 0, 1}},
		err:     "cannot write offsets of group g: partition old.nope/0: kafka server: Request was for a topic or partition that does not exist on this broker",
	}, {
		name:    "reads back differently",
		change:  func(tgt *cutoverFake) { tgt.dropCommit[tp("old.orders", 1)] = true },
		offsets: []TargetOffset{{"old.orders", 0, 7}, {"old.orders", 1, 4}},
		err:     "offsets of group g differ after writing: partition old.orders/1 reads back no offset, not 4",
	}, {
		name:    "no offset to write",
		offsets: []TargetOffset{{"old.orders", 0, -1}},
		err:     "cannot write offsets of group g: partition old.orders/0 has no offset (-1)",
	}, {
		name:    "one partition twice",
		offsets: []TargetOffset{{"old.orders", 0, 1}, {"old.orders", 0, 2}},
		err:     "partition old.orders/0 given twice (1, 2)",
	}, {
		name: "nothing to write",
		err:  "cannot write offsets of group g: no offsets given",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			tgt := newCutoverFake(1, 2)
			tgt.addTopic("old.orders", 2)
			tgt.addTopic(consumerOffsetsTopic, 4)
			if tc.change != nil {
				tc.change(tgt)
			}
			err := writeGroupOffsets(context.Background(), tgt, "g", tc.offsets)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			for _, o := range tc.offsets {
				assert.Equal(t, o.Offset, tgt.groups["g"].offsets[tp(o.Topic, o.Partition)])
			}
			assert.Equal(t, 1, tgt.calls["OffsetCommit"], "one commit for all partitions")
			assert.Equal(t, 1, tgt.calls["OffsetFetch"], "one read back")
		})
	}
}

// TestGivenExactOffsetsWhenWrittenThenTheGroupResumesThere chains the
// library as the cutover action will: gates, translation, write.
func TestGivenExactOffsetsWhenWrittenThenTheGroupResumesThere(t *testing.T) {
	src, tgt, flow := exactFixture(exactCases()[1])
	view, err := measure(context.Background(), src, tgt, flow, time.Now(), nil, false)
	require.NoError(t, err)
	g := cutoverGates(context.Background(), src, flow, view, []string{"g"})
	require.True(t, g.Open(), g.Blockers)
	got, err := exactOffsets(context.Background(), src, tgt, flow, []string{"g"}, defaultScanLimit, nil)
	require.NoError(t, err)
	require.True(t, got[0].Complete())
	require.NoError(t, writeGroupOffsets(context.Background(), tgt, "g", got[0].Targets()))
	assert.Equal(t, int64(10), tgt.groups["g"].offsets[tp("old.orders", 0)])
}
