package charm

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks"
	"mirrormaker-k8s/hooks/hookstest"
	"mirrormaker-k8s/internal/migration"
	"mirrormaker-k8s/internal/mm2"
)

func mirroring(t *testing.T, units int) *harness {
	t.Helper()
	return mirroringFrom(t, units, startingView())
}

// mirroringFrom starts the migration while the clusters measure as view.
func mirroringFrom(t *testing.T, units int, view migration.SyncView) *harness {
	t.Helper()
	h := newHarness(t, units)
	h.kafka.view = view
	h.ready()
	a := h.action(h.unit(0), "start-migration", nil)
	require.False(t, a.Failed, a.FailMessage)
	h.peerChanged()
	return h
}

func TestGivenMirroringWhenUpdateStatusThenLeaderShowsRecordsBehindETAAndGroups(t *testing.T) {
	h := mirroringFrom(t, 2, lagView(1_000_000, 0))
	steps := []struct {
		after  time.Duration
		view   migration.SyncView
		status hookstest.Status
	}{
		{0, lagView(1_000_000, 0), wantActive("mirroring 2 topics/12 partitions: 1,000,000 records behind; groups 0/1 synced")},
		{time.Minute, lagView(400_000, 0), wantActive("mirroring 2 topics/12 partitions: 400,000 records behind, ETA 40s; groups 0/1 synced")},
		{6 * time.Minute, lagView(300_000, 1), wantActive("mirroring 2 topics/12 partitions: 300,000 records behind, ETA 15m; groups 1/1 synced")},
		{7 * time.Minute, lagView(350_000, 1), wantActive("mirroring 2 topics/12 partitions: 350,000 records behind, not catching up; groups 1/1 synced")},
		{8 * time.Minute, lagView(0, 1), wantActive("in sync 2 topics/12 partitions: 0 records behind; groups 1/1 synced")},
	}
	start := h.now
	for _, s := range steps {
		h.now = start.Add(s.after)
		h.kafka.view = s.view
		h.everywhere("update-status", nil)
		assert.Equal(t, s.status, h.status(h.unit(0)))
		assert.Equal(t, s.status, h.m.AppStatus, "the application status carries the sync line")
		assert.Equal(t, wantActive("mirroring"), h.status(h.unit(1)), "non-leaders report their own MM2")
	}
	calls := h.kafka.calls
	h.everywhere("config-changed", nil)
	assert.Equal(t, calls, h.kafka.calls, "hooks other than update-status and actions never ask Kafka")
	assert.Equal(t, steps[len(steps)-1].status, h.status(h.unit(0)), "the leader keeps its last sync line")
}

func TestGivenMeasurementsSecondsApartThenNoFlippingETA(t *testing.T) {
	h := mirroringFrom(t, 1, lagView(1000, 0))
	h.now = h.now.Add(time.Minute)
	h.kafka.view = lagView(400, 0)
	h.hook(h.unit(0), "update-status", nil, "")
	assert.Contains(t, h.status(h.unit(0)).Message, "400 records behind, ETA 40s")
	h.now = h.now.Add(2 * time.Second) // an action right after, within one flush interval
	a := h.action(h.unit(0), "sync-status", nil)
	require.False(t, a.Failed)
	assert.Equal(t, "mirroring 2 topics/12 partitions: 400 records behind; groups 0/1 synced", h.status(h.unit(0)).Message)
	h.now = h.now.Add(58 * time.Second)
	h.kafka.view = lagView(100, 0)
	h.hook(h.unit(0), "update-status", nil, "")
	assert.Contains(t, h.status(h.unit(0)).Message, "100 records behind, ETA 20s", "the trend spans the older sample")
}

func TestGivenNothingMeasurableThenLagUnknownNotZero(t *testing.T) {
	h := mirroring(t, 1)
	v := lagView(0, 0)
	v.PartitionsCaughtUp = 0
	for i := range v.Partitions {
		v.Partitions[i].Lag = -1
	}
	v.PartitionsUnknown = len(v.Partitions)
	v.Errors = []migration.ItemError{{Item: "target", Err: errors.New("no target cluster")}}
	h.kafka.view = v
	h.hook(h.unit(0), "update-status", nil, "")
	assert.Equal(t, "mirroring 2 topics/12 partitions: lag unknown; groups 0/1 synced; 1 unmeasured (target: no target cluster)",
		h.status(h.unit(0)).Message)
}

func TestGivenMM2DownOnAUnitWhenUpdateStatusThenLeaderNamesIt(t *testing.T) {
	h := mirroring(t, 3)
	h.workloads[h.unit(2)].broken = true
	h.hook(h.unit(2), "update-status", nil, "")
	assert.Equal(t, "waiting", h.status(h.unit(2)).Name)
	h.kafka.view = lagView(10, 1)
	h.hook(h.unit(0), "update-status", nil, "")
	assert.Equal(t, hookstest.Status{Name: hooks.StatusWaiting,
		Message: "mirroring 2 topics/12 partitions: 10 records behind; groups 1/1 synced; MM2 down on mirrormaker-k8s/2"},
		h.status(h.unit(0)))
}

func TestGivenSourceUnreachableWhenUpdateStatusThenStatusNamesIt(t *testing.T) {
	h := mirroring(t, 1)
	h.kafka.err = &ClusterError{Side: "source", Err: errors.New("cannot connect to old-0:9092: i/o timeout")}
	h.hook(h.unit(0), "update-status", nil, "")
	assert.Equal(t, hookstest.Status{Name: hooks.StatusWaiting,
		Message: "source cluster unreachable: cannot connect to old-0:9092: i/o timeout"}, h.status(h.unit(0)))
}

// A frozen cluster answers nothing and refuses nothing: only a deadline ends the wait. A hook's
// measurement has one well within 15 s; the sync-status action keeps the probe's own.
func TestGivenAHookThenItsKafkaCallsHaveADeadlineAndAnActionsKeepTheirOwn(t *testing.T) {
	h := mirroring(t, 1)
	h.kafka.view = lagView(10, 0)
	h.hook(h.unit(0), "update-status", nil, "")
	assert.Positive(t, h.kafka.budget, "update-status measures under a deadline")
	assert.LessOrEqual(t, h.kafka.budget, hookKafkaBudget)
	assert.Less(t, hookKafkaBudget, 15*time.Second)

	a := h.action(h.unit(0), "sync-status", nil)
	require.False(t, a.Failed, a.FailMessage)
	assert.Zero(t, h.kafka.budget, "the action's measurement is bounded by the probe, not the hook budget")
}

func TestGivenTargetUnreachableWhenUpdateStatusThenStatusNamesItAndKeepsSourceFigures(t *testing.T) {
	h := mirroring(t, 1)
	h.kafka.err = &ClusterError{Side: "target", Err: errors.New("cannot connect to k:9092")}
	h.kafka.view = lagView(10, 0)
	h.kafka.view.Errors = []migration.ItemError{{Item: "target", Err: errors.New("no target cluster")}}
	h.hook(h.unit(0), "update-status", nil, "")
	st := h.status(h.unit(0))
	assert.Equal(t, "waiting", st.Name)
	assert.Contains(t, st.Message, "target cluster unreachable: cannot connect to k:9092; mirroring 2 topics/12 partitions")
}

func TestGivenSyncStatusActionThenStructuredResults(t *testing.T) {
	h := mirroring(t, 1)
	v := lagView(42, 1)
	v.Groups[0].Synced = true
	v.Groups[0].Partitions = []migration.GroupPartition{{Topic: "orders", Partition: 3, SourceCommitted: 90, TargetCommitted: 88,
		Checkpoint: &mm2.Checkpoint{UpstreamOffset: 90, DownstreamOffset: 88}, Synced: true}}
	h.kafka.view = v
	a := h.action(h.unit(0), "sync-status", map[string]any{"group": "billing"})
	require.False(t, a.Failed, a.FailMessage)
	for k, want := range map[string]string{
		"summary.records-behind":                   "42",
		"summary.partitions":                       "12",
		"summary.groups-synced":                    "1",
		"summary.in-sync":                          "false",
		"topics.1.name":                            "payments",
		"topics.1.partitions":                      "6",
		"groups.0.name":                            "billing",
		"groups.0.synced":                          "true",
		"groups.0.offsets.0.topic":                 "orders",
		"groups.0.offsets.0.source-committed":      "90",
		"groups.0.offsets.0.checkpoint-downstream": "88",
		"migration":                                "started",
	} {
		assert.Equal(t, want, a.Results[k], k)
	}
	other := h.action(h.unit(0), "sync-status", nil)
	assert.NotContains(t, other.Results, "groups.0.offsets.0.topic", "per-partition offsets only on request")
}

func TestSummaryFormatting(t *testing.T) {
	assert.Equal(t, "1,204,332", thousands(1204332))
	assert.Equal(t, "999", thousands(999))
	assert.Equal(t, "-1,000", thousands(-1000))
	for d, want := range map[time.Duration]string{
		200 * time.Millisecond:         "1s",
		45 * time.Second:               "45s",
		3*time.Minute + 20*time.Second: "3m",
		2*time.Hour + 10*time.Minute:   "2h10m",
	} {
		assert.Equal(t, want, roughDuration(d))
	}
	s, ok := parseSample(sample{at: time.Unix(100, 0), behind: 7}.String())
	require.True(t, ok)
	assert.Equal(t, int64(7), s.behind)
	_, ok = parseSample("garbage")
	assert.False(t, ok)
}

// The status says "not catching up" only when the lag grew over more than a flush interval:
// right after MM2 starts, its position is flushed late and the figure stands still while the
// target catches up fast, which is no evidence either way.
func TestETASaysNotCatchingUpOnlyWhenTheLagGrewOverAFlushInterval(t *testing.T) {
	at := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		prev   int64
		span   time.Duration
		flush  time.Duration
		behind int64
		want   string
	}{
		{"falling", 1000, time.Minute, 5 * time.Second, 400, "ETA 40s"},
		{"grew over a minute", 300, time.Minute, 5 * time.Second, 350, "not catching up"},
		{"unchanged: MM2 may not have flushed yet", 102_000, 30 * time.Second, 5 * time.Second, 102_000, ""},
		{"grew, but within one long flush interval", 100, 50 * time.Second, time.Minute, 200, ""},
		{"grew, over more than one long flush interval", 100, 90 * time.Second, time.Minute, 200, "not catching up"},
		{"within minTrend", 1000, 5 * time.Second, time.Second, 10, ""},
		{"caught up", 1000, time.Minute, 5 * time.Second, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := &sample{at: at, behind: tc.prev}
			assert.Equal(t, tc.want, etaOf(prev, tc.behind, at.Add(tc.span), tc.flush))
		})
	}
}

// Groups MM2 will never sync are named as such: the status line counts them and sync-status says,
// per group, what holds each back.
func TestGivenGroupsOnlyTheCutoverCanMoveThenStatusAndSyncStatusSayWhy(t *testing.T) {
	h := mirroring(t, 1)
	v := lagView(0, 1)
	v.GroupsCounted, v.GroupsSynced, v.GroupsCutoverOnly = 3, 1, 1
	v.Groups[0].CutoverOnly = true
	v.Groups[0].Partitions = []migration.GroupPartition{{Topic: "orders", Partition: 3, SourceCommitted: 4, TargetCommitted: -1,
		Unsynced: migration.UnsyncedBelowLogStart}}
	h.kafka.view = v
	h.hook(h.unit(0), "update-status", nil, "")
	assert.Contains(t, h.status(h.unit(0)).Message, "; groups 1/3 synced, 1 only by the cutover")

	a := h.action(h.unit(0), "sync-status", map[string]any{"group": "billing"})
	require.False(t, a.Failed, a.FailMessage)
	for k, want := range map[string]string{
		"summary.groups-cutover-only":  "1",
		"groups.0.cutover-only":        "true",
		"groups.0.unsynced":            "committed below the source's log start, which MM2 never checkpoints on 1/1 partitions",
		"groups.0.offsets.0.unsynced":  migration.UnsyncedBelowLogStart,
		"groups.0.offsets.0.partition": "3",
	} {
		assert.Equal(t, want, a.Results[k], k)
	}
}

// TestGivenPebbleAwayOnTheLeaderWhenUpdateStatusThenItNamesItselfDown: with its container down
// the measuring leader does not fail the hook asking Pebble for MM2's state; no MM2 runs there,
// and the sync line says so.
func TestGivenPebbleAwayOnTheLeaderWhenUpdateStatusThenItNamesItselfDown(t *testing.T) {
	h := mirroring(t, 2)
	h.workloads[h.unit(0)].notReady = true
	h.kafka.view = lagView(10, 1)
	h.hook(h.unit(0), "update-status", nil, "")
	assert.Equal(t, hookstest.Status{Name: hooks.StatusWaiting,
		Message: "mirroring 2 topics/12 partitions: 10 records behind; groups 1/1 synced; MM2 down on mirrormaker-k8s/0"},
		h.status(h.unit(0)))
}
