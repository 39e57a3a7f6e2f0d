package charm

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/migration"
	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/workload"
)

// fakeSession plays a cutover's view of both clusters: gates that open after some polls, a
// source that goes quiet after some polls, and records what was written.
type fakeSession struct {
	gates    []migration.Gates // returned in turn; the last one repeats
	gatesErr []error           // returned in turn before gates, when set
	exact    []migration.GroupOffsets
	// exactSeq and verifySeq, when set, are answered in turn (the last repeats).
	exactSeq  [][]migration.GroupOffsets
	verifySeq []migration.Verification
	asked     map[string][][]string // ExactOffsets' groups, in turn
	moves     [][]migration.EndMove // Quiet answers in turn; the last one repeats
	views     []migration.SyncView
	verify    migration.Verification
	// wholeRounds are told to Verify's progress before it answers.
	wholeRounds []migration.WholeProgress
	written     map[string][]migration.TargetOffset
	// rewinds is how many checks of a group find it rewound (MM2's group-offset sync).
	rewinds map[string]int
	writes  map[string]int
	checks  int
	closed  bool
	quiet   time.Duration
	limit   migration.ScanLimit // ExactOffsets' last
	// afterWrite, when set, runs after each group's offsets are written.
	afterWrite func(group string)
}

func nth[T any](s []T, i int) T {
	if i >= len(s) {
		return s[len(s)-1]
	}
	return s[i]
}

func (f *fakeSession) Measure(context.Context, mm2.Flow) (migration.SyncView, error) {
	v := nth(f.views, 0)
	if len(f.views) > 1 {
		f.views = f.views[1:]
	}
	return v, nil
}

func (f *fakeSession) Gates(context.Context, mm2.Flow, []string) (migration.Gates, error) {
	if len(f.gatesErr) > 0 {
		err := f.gatesErr[0]
		f.gatesErr = f.gatesErr[1:]
		return migration.Gates{}, err
	}
	g := nth(f.gates, 0)
	if len(f.gates) > 1 {
		f.gates = f.gates[1:]
	}
	return g, nil
}

func (f *fakeSession) ExactOffsets(_ context.Context, _ mm2.Flow, groups []string, limit migration.ScanLimit) ([]migration.GroupOffsets, error) {
	f.limit = limit
	if f.asked == nil {
		f.asked = map[string][][]string{}
	}
	f.asked["exact"] = append(f.asked["exact"], groups)
	if len(f.exactSeq) > 0 {
		e := nth(f.exactSeq, 0)
		if len(f.exactSeq) > 1 {
			f.exactSeq = f.exactSeq[1:]
		}
		return e, nil
	}
	return f.exact, nil
}

func (f *fakeSession) WriteGroupOffsets(_ context.Context, group string, offsets []migration.TargetOffset) error {
	if f.written == nil {
		f.written = map[string][]migration.TargetOffset{}
	}
	f.written[group] = offsets
	if f.writes == nil {
		f.writes = map[string]int{}
	}
	f.writes[group]++
	if f.afterWrite != nil {
		f.afterWrite(group)
	}
	return nil
}

func (f *fakeSession) CheckGroupOffsets(_ context.Context, group string, offsets []migration.TargetOffset) error {
	f.checks++
	if f.rewinds[group] > 0 {
		f.rewinds[group]--
		return fmt.Errorf("offsets of group %s changed on the target: partition orders/0 reads back 420, not 500", group)
	}
	if !reflect.DeepEqual(f.written[group], offsets) {
		return fmt.Errorf("group %s: checked offsets were never written", group)
	}
	return nil
}

func (f *fakeSession) Quiet(_ context.Context, _ mm2.Flow, period time.Duration) ([]migration.EndMove, error) {
	f.quiet = period
	m := nth(f.moves, 0)
	if len(f.moves) > 1 {
		f.moves = f.moves[1:]
	}
	return m, nil
}

func (f *fakeSession) Verify(_ context.Context, _ mm2.Flow, _ int, progress func(migration.WholeProgress)) (migration.Verification, error) {
	for _, p := range f.wholeRounds {
		progress(p)
	}
	if len(f.verifySeq) > 0 {
		v := nth(f.verifySeq, 0)
		if len(f.verifySeq) > 1 {
			f.verifySeq = f.verifySeq[1:]
		}
		return v, nil
	}
	return f.verify, nil
}

func (f *fakeSession) Close() { f.closed = true }

func (f *fakeKafka) Open(context.Context, mm2.Cluster, mm2.Cluster) (Session, error) {
	return f.session, nil
}

func billingExact() []migration.GroupOffsets {
	return []migration.GroupOffsets{{Group: "billing", Partitions: []migration.PartitionOffset{
		{Topic: "orders", TargetTopic: "orders", Partition: 0, SourceCommitted: 500, CheckpointUpstream: 500,
			Checkpoint: 420, Exact: 500, ReplaysAvoided: 80, How: "copy of the last record below"},
		{Topic: "orders", TargetTopic: "orders", Partition: 1, SourceCommitted: 0, CheckpointUpstream: -1,
			Checkpoint: -1, Exact: 0, ReplaysAvoided: -1, How: "copy of the first record at or after"},
	}}}
}

func TestGivenConsumersStillRunningWhenCutoverConsumersThenWaitsThenWritesExactOffsets(t *testing.T) {
	h := mirroring(t, 2)
	blocked := migration.Gates{Blockers: []string{"group billing still has 2 active members on the source"}}
	s := &fakeSession{
		gates: []migration.Gates{blocked, blocked, {Groups: []string{"billing"}}},
		exact: billingExact(),
	}
	h.kafka.session = s
	a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers"})
	require.False(t, a.Failed, a.FailMessage)
	assert.Equal(t, []migration.TargetOffset{{Topic: "orders", Partition: 0, Offset: 500}, {Topic: "orders", Partition: 1, Offset: 0}},
		s.written["billing"])
	assert.Equal(t, "exact offsets written for 1 group(s): start their consumers on the target", a.Results["status"])
	assert.Equal(t, "420", a.Results["groups.0.partitions.0.mm2-translation"])
	assert.Equal(t, "500", a.Results["groups.0.partitions.0.exact"])
	assert.Equal(t, "80", a.Results["summary.replays-avoided"])
	require.Len(t, a.Logs, 5)
	assert.Contains(t, a.Logs[0], "waiting: 1 blocker(s), first: group billing still has 2 active members on the source")
	assert.Equal(t, "waiting 11s, two MirrorMaker 2 group-offset sync intervals, to check that the offsets of 1 group(s) hold", a.Logs[4])
	assert.Equal(t, 1, s.checks)
	assert.True(t, s.closed)
	assert.Equal(t, 21*time.Second, h.now.Sub(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)), "two polls of 5s, then the hold")
}

// TestGivenMM2RewindsWrittenOffsetsWhenCutoverConsumersThenWritesAgainUntilTheyHold: MM2's
// group-offset sync may rewind a group written within one of its intervals to its own
// coarser translation; the phase checks after two intervals, writes again, and leaves behind
// a group that keeps being rewound.
func TestGivenMM2RewindsWrittenOffsetsWhenCutoverConsumersThenWritesAgainUntilTheyHold(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rewinds int
		failed  bool
		writes  int
	}{
		{"rewound once: written again, then holds", 1, false, 2},
		{"rewound every time: left behind", holdRounds, true, holdRounds},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := mirroring(t, 1)
			exact := append(billingExact(), migration.GroupOffsets{Group: "audit", Partitions: []migration.PartitionOffset{
				{Topic: "orders", TargetTopic: "orders", Partition: 0, SourceCommitted: 7, CheckpointUpstream: -1, Checkpoint: -1, Exact: 7,
					ReplaysAvoided: -1, How: "copy of the last record below"}}})
			s := &fakeSession{gates: []migration.Gates{{Groups: []string{"audit", "billing"}}}, exact: exact,
				rewinds: map[string]int{"billing": tc.rewinds}}
			h.kafka.session = s
			a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers"})
			assert.Equal(t, tc.writes, s.writes["billing"])
			assert.Equal(t, 1, s.writes["audit"], "a group that holds is written once")
			assert.Equal(t, tc.failed, a.Failed, a.FailMessage)
			if tc.failed {
				assert.Contains(t, a.FailMessage, "exact offsets written for 1 group(s)")
				assert.Contains(t, a.FailMessage, "group billing: its exact offsets were rewound 3 times after writing")
				assert.Equal(t, "billing", a.Results["left-behind.0.name"])
				return
			}
			assert.Equal(t, "exact offsets written for 2 group(s): start their consumers on the target", a.Results["status"])
			assert.Contains(t, strings.Join(a.Logs, "\n"), "group billing: offsets of group billing changed on the target")
		})
	}
}

func TestGivenBlockersWhenCutoverTimesOutThenFailsNamingEveryBlocker(t *testing.T) {
	h := mirroring(t, 1)
	h.kafka.session = &fakeSession{gates: []migration.Gates{{Blockers: []string{
		"group billing is active on the target (Stable, 1 members)",
		"partition orders/3 not yet copied up to committed offset 1234 (MM2 at 1200)",
	}}}}
	a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers", "timeout": "30s"})
	assert.True(t, a.Failed)
	assert.Equal(t, "consumers cannot move yet after 30s: (1) group billing is active on the target (Stable, 1 members); "+
		"(2) partition orders/3 not yet copied up to committed offset 1234 (MM2 at 1200)", a.FailMessage)
	assert.Len(t, a.Logs, 6, "a progress line every poll")
}

func TestGivenDryRunWhenCutoverConsumersThenNothingWritten(t *testing.T) {
	h := mirroring(t, 1)
	s := &fakeSession{gates: []migration.Gates{{Groups: []string{"billing"}}}, exact: billingExact()}
	h.kafka.session = s
	a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers", "dry-run": true})
	require.False(t, a.Failed, a.FailMessage)
	assert.Empty(t, s.written)
	assert.Equal(t, "dry run: exact offsets found, nothing written", a.Results["status"])
}

func TestGivenPartitionNotTranslatableWhenCutoverConsumersThenNothingWritten(t *testing.T) {
	h := mirroring(t, 1)
	exact := billingExact()
	exact[0].Partitions[1].Err = assert.AnError
	s := &fakeSession{gates: []migration.Gates{{Groups: []string{"billing"}}}, exact: exact}
	h.kafka.session = s
	a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers"})
	assert.True(t, a.Failed)
	assert.True(t, strings.HasPrefix(a.FailMessage, "cannot translate every offset exactly, nothing written: (1) group billing, partition orders/1:"))
	assert.Empty(t, s.written)
}

func equalCopy() migration.Verification {
	return migration.Verification{Equal: true, SourceRecords: 300, TargetRecords: 300, Partitions: []migration.PartitionCheck{
		{Topic: "orders", TargetTopic: "orders", Partition: 0, SourceRecords: 100, TargetRecords: 100, Sampled: 10, SampleEqual: true, Equal: true},
		{Topic: "orders", TargetTopic: "orders", Partition: 1, SourceRecords: 200, TargetRecords: 200, Sampled: 10, SampleEqual: true, Equal: true},
	}}
}

func TestGivenProducerWritingWhenCutoverProducersThenWaitsThenProvesAndStopsEverywhere(t *testing.T) {
	h := mirroring(t, 2)
	s := &fakeSession{
		moves:  [][]migration.EndMove{{{Topic: "orders", Partition: 0, Before: 90, After: 100}}, nil},
		views:  []migration.SyncView{lagView(7, 1), lagView(0, 1)},
		verify: equalCopy(),
	}
	h.kafka.session = s
	a := h.action(h.unit(0), "cutover", map[string]any{"phase": "producers", "quiet-period": "2s"})
	require.False(t, a.Failed, a.FailMessage)
	assert.Equal(t, 2*time.Second, s.quiet)
	assert.Equal(t, "cutover complete: MirrorMaker 2 stopped on the leader, stop requested on the other 1 unit(s) "+
		"(their status shows when done); clients may use kafka-k8s-0.kafka-k8s-endpoints:9092",
		a.Results["status"])
	assert.Equal(t, "300", a.Results["topics.0.source-records"])
	assert.Equal(t, "300", a.Results["topics.0.target-records"])
	assert.Equal(t, "20", a.Results["summary.sampled-records"])
	assert.Equal(t, "counts by offsets and sampled records", a.Results["topics.0.compared"])
	assert.Equal(t, "0", a.Results["summary.duplicates"])
	assert.Contains(t, a.Logs[0], "the source is still written to (1 partition(s) moved in 2s, e.g. orders/0 from 90 to 100)")
	assert.Contains(t, a.Logs[1], "7 records still to copy")
	h.peerChanged()
	done := wantActive("cutover complete: clients may use kafka-k8s-0.kafka-k8s-endpoints:9092")
	for _, u := range h.m.Units {
		assert.Equal(t, workload.StateInactive, h.workloads[u].state, u)
		assert.Equal(t, done, h.status(u))
	}
	assert.Equal(t, done, h.m.AppStatus)

	again := h.action(h.unit(0), "cutover", map[string]any{"phase": "producers", "quiet-period": "2s"})
	require.False(t, again.Failed, again.FailMessage)
	assert.Equal(t, a.Results, again.Results, "a second run gives the same answer")
	h.everywhere("update-status", nil)
	assert.Equal(t, done, h.status(h.unit(0)))
}

func TestGivenCopyDiffersWhenCutoverProducersThenFailsAndKeepsMirroring(t *testing.T) {
	h := mirroring(t, 1)
	ver := equalCopy()
	ver.Equal = false
	ver.Partitions[1].Equal, ver.Partitions[1].TargetRecords = false, 199
	h.kafka.session = &fakeSession{moves: [][]migration.EndMove{nil}, views: []migration.SyncView{lagView(0, 1)}, verify: ver}
	a := h.action(h.unit(0), "cutover", map[string]any{"phase": "producers"})
	assert.True(t, a.Failed)
	assert.Equal(t, "the copy differs, nothing stopped: (1) orders/1: 200 records on the source, 199 on the target", a.FailMessage)
	assert.Equal(t, workload.StateActive, h.workloads[h.unit(0)].state)
}

func TestGivenKeepMirroringWhenCutoverProducersThenMM2KeepsRunning(t *testing.T) {
	h := mirroring(t, 1)
	h.kafka.session = &fakeSession{moves: [][]migration.EndMove{nil}, views: []migration.SyncView{lagView(0, 1)}, verify: equalCopy()}
	a := h.action(h.unit(0), "cutover", map[string]any{"phase": "producers", "keep-mirroring": true})
	require.False(t, a.Failed, a.FailMessage)
	assert.Equal(t, workload.StateActive, h.workloads[h.unit(0)].state)
	assert.Equal(t, "started", h.peerData()["migration"])
}

func TestGivenBadParamsOrStateWhenCutoverThenClearFailure(t *testing.T) {
	tests := []struct {
		name   string
		start  bool
		params map[string]any
		want   string
	}{
		{"phase", true, map[string]any{"phase": "everyone"}, `cannot cut over: phase: want consumers or producers, got "everyone"`},
		{"timeout", true, map[string]any{"phase": "consumers", "timeout": "soon"}, `cannot cut over: timeout: want a positive duration such as 30s or 10m, got "soon"`},
		{"not started", false, map[string]any{"phase": "consumers"}, "cannot cut over: nothing is being mirrored; run start-migration first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 1)
			h.ready()
			if tt.start {
				h.action(h.unit(0), "start-migration", nil)
			}
			a := h.action(h.unit(0), "cutover", tt.params)
			assert.True(t, a.Failed)
			assert.Equal(t, tt.want, a.FailMessage)
		})
	}
}

// TestGivenTenThousandGroupPartitionsWhenCutoverConsumersThenEveryResultReachesJuju: the
// results of a large cutover (about 70,000 keys, megabytes) are more than one exec's argv may
// carry; they must still all reach the action's result, after the offsets were written.
func TestGivenTenThousandGroupPartitionsWhenCutoverConsumersThenEveryResultReachesJuju(t *testing.T) {
	h := mirroring(t, 1)
	const groups, partitions = 100, 100
	var exact []migration.GroupOffsets
	var names []string
	for g := range groups {
		name := fmt.Sprintf("consumer-group-%03d", g)
		names = append(names, name)
		gro := migration.GroupOffsets{Group: name}
		for p := range int32(partitions) {
			gro.Partitions = append(gro.Partitions, migration.PartitionOffset{Topic: "orders-events", TargetTopic: "orders-events",
				Partition: p, SourceCommitted: 1_000_000_000 + int64(p), CheckpointUpstream: 999_999_000, Checkpoint: 999_999_000,
				Exact: 1_000_000_000 + int64(p), ReplaysAvoided: 1000 + int64(p), How: "copy of the last record below"})
		}
		exact = append(exact, gro)
	}
	s := &fakeSession{gates: []migration.Gates{{Groups: names}}, exact: exact}
	h.kafka.session = s

	a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers"})
	require.False(t, a.Failed, a.FailMessage)
	require.Len(t, s.written, groups)

	want := map[string]string{
		"summary.groups": "100", "summary.groups-left-behind": "0", "summary.partitions": "10000", "summary.replays-avoided": "10495000",
		"status": "exact offsets written for 100 group(s): start their consumers on the target",
	}
	for g := range groups {
		want[fmt.Sprintf("groups.%d.name", g)] = names[g]
		for p := range partitions {
			k := fmt.Sprintf("groups.%d.partitions.%d.", g, p)
			want[k+"topic"] = "orders-events"
			want[k+"partition"] = strconv.Itoa(p)
			want[k+"source-committed"] = strconv.Itoa(1_000_000_000 + p)
			want[k+"mm2-translation"] = "999999000"
			want[k+"exact"] = strconv.Itoa(1_000_000_000 + p)
			want[k+"replays-avoided"] = strconv.Itoa(1000 + p)
			want[k+"how"] = "copy of the last record below"
		}
	}
	assert.Equal(t, len(want), len(a.Results))
	for k, v := range want {
		if a.Results[k] != v {
			t.Fatalf("result %s = %q, want %q", k, a.Results[k], v)
		}
	}

	var sets, bytes int
	for _, c := range h.calls {
		if c.tool == "action-set" {
			sets++
			n := 0
			for _, arg := range c.args {
				n += len(arg) + 1
			}
			bytes = max(bytes, n)
		}
	}
	assert.Greater(t, sets, 1, "split across action-set calls")
	assert.LessOrEqual(t, bytes, 100*1000, "no call near the kernel's limits")
}

func TestGivenTopicsOfEveryKindWhenProvedThenResultsSayWhatWasCompared(t *testing.T) {
	ver := migration.Verification{Equal: true, Partitions: []migration.PartitionCheck{
		{Topic: "changelog", TargetTopic: "changelog", CountedBy: migration.CountedByKeys, Keys: 40, Sampled: 40, SourceRecords: 41, TargetRecords: 77, Equal: true},
		{Topic: "events", TargetTopic: "events", Partition: 0, CountedBy: migration.CountedByRecords, Sampled: 50, SourceRecords: 70, TargetRecords: 70,
			Duplicates: 20, SourceBefore: 20, Equal: true},
		{Topic: "events", TargetTopic: "events", Partition: 1, CountedBy: migration.CountedByOffsets, Sampled: 14, SourceRecords: 90, TargetRecords: 90, Equal: true},
		{Topic: "stamped", TargetTopic: "stamped", CountedBy: migration.CountedByOffsets, WithoutTimestamps: true, Sampled: 14, SourceRecords: 40, TargetRecords: 40, Equal: true},
	}}
	r := producerResults(ver)
	assert.Equal(t, "latest value per key (compacted)", r["topics.0.compared"])
	assert.Equal(t, "40", r["topics.0.keys"])
	assert.Equal(t, "per partition: every record in order, repeats counted; counts by offsets and sampled records", r["topics.1.compared"])
	assert.Equal(t, "20", r["topics.1.duplicates"])
	assert.Equal(t, "20", r["topics.1.outside-window"])
	assert.Equal(t, "counts by offsets and sampled records, without timestamps (the target stamps LogAppendTime)", r["topics.2.compared"])
	assert.Equal(t, "20", r["summary.duplicates"])
	assert.NotContains(t, r, "topics.2.duplicates")
}

// Reading every record of both clusters can take minutes: the action says how far it has got
// after each round, so it never looks hung.
func TestGivenPartitionsReadWholeWhenCutoverProducersThenEachRoundIsReported(t *testing.T) {
	h := mirroring(t, 1)
	h.kafka.session = &fakeSession{moves: [][]migration.EndMove{nil}, views: []migration.SyncView{lagView(0, 1)}, verify: equalCopy(),
		wholeRounds: []migration.WholeProgress{{Round: 1, Rounds: 2, Partitions: 1200, Records: 2_097_152}, {Round: 2, Rounds: 2, Partitions: 1200, Records: 3_000_000}}}
	a := h.action(h.unit(0), "cutover", map[string]any{"phase": "producers", "keep-mirroring": true})
	require.False(t, a.Failed, a.FailMessage)
	logs := strings.Join(a.Logs, "\n")
	assert.Contains(t, logs, "proving the copy: 2,097,152 records read of 1200 partitions read whole (markers, repeats, compaction or log starts that differ), round 1 of 2")
	assert.Contains(t, logs, "proving the copy: 3,000,000 records read of 1200 partitions read whole (markers, repeats, compaction or log starts that differ), round 2 of 2")
}

// TestGivenLeadershipMovesWhenCutoverConsumersWritesThenFailsSayingWhatIsWrittenAndWhereToGoOn:
// the leader's lease may lapse while its cutover runs; the groups it wrote stay written on the
// target, its record of them is refused, and the action says both and sends the user to the
// new leader, whose run takes up what is left.
func TestGivenLeadershipMovesWhenCutoverConsumersWritesThenFailsSayingWhatIsWrittenAndWhereToGoOn(t *testing.T) {
	h := mirroring(t, 2)
	s := &fakeSession{gates: []migration.Gates{{Groups: []string{"billing"}}}, exact: billingExact()}
	s.afterWrite = func(string) { h.m.Leader = h.unit(1) }
	h.kafka.session = s
	a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers"})
	require.True(t, a.Failed)
	assert.Contains(t, a.FailMessage, "the exact offsets of 1 group(s) are written (see the results), but cannot record the groups moved")
	assert.Contains(t, a.FailMessage, "leadership moved to another unit while cutover ran, so it stopped here: "+
		"run it again on the leader (juju run mirrormaker-k8s/leader cutover)")
	assert.Equal(t, "billing", a.Results["groups.0.name"])
	assert.Equal(t, "500", a.Results["groups.0.partitions.0.exact"])
	assert.Empty(t, h.peerData()[keyConsumersMoved], "the old leader recorded nothing")

	// The new leader's run takes up the job: the clusters say what is left.
	a = h.action(h.unit(1), "cutover", map[string]any{"phase": "consumers"})
	require.False(t, a.Failed, a.FailMessage)
	assert.Equal(t, "exact offsets written for 1 group(s): start their consumers on the target", a.Results["status"])
	assert.NotEmpty(t, h.peerData()[keyConsumersMoved])
}
