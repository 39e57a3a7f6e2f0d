package charm

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/migration"
)

func shopExact() migration.GroupOffsets {
	return migration.GroupOffsets{Group: "shop", Partitions: []migration.PartitionOffset{
		{Topic: "orders", TargetTopic: "orders", Partition: 0, SourceCommitted: 300, CheckpointUpstream: 300,
			Checkpoint: 290, Exact: 300, ReplaysAvoided: 10, How: "copy of the last record below"},
	}}
}

func TestGivenOneGroupBlockedWhenCutoverTimesOutThenTheOthersMoveAndItIsNamed(t *testing.T) {
	h := mirroring(t, 1)
	blocker := "group billing still has 2 active members on the source"
	s := &fakeSession{
		gates: []migration.Gates{{Groups: []string{"billing", "shop"}, Blockers: []string{blocker},
			Blocked: map[string][]string{"billing": {blocker}}}},
		exact: []migration.GroupOffsets{shopExact()},
	}
	h.kafka.session = s
	a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers", "timeout": "10s"})

	assert.True(t, a.Failed)
	assert.Equal(t, "exact offsets written for 1 group(s): start their consumers on the target; "+
		"1 group(s) left behind, nothing written for them: (1) group billing: "+blocker+"; "+
		"run cutover phase=consumers again once they can move", a.FailMessage)
	assert.Equal(t, []migration.TargetOffset{{Topic: "orders", Partition: 0, Offset: 300}}, s.written["shop"])
	assert.NotContains(t, s.written, "billing")
	assert.Equal(t, "shop", a.Results["groups.0.name"], "what was done is reported beside the failure")
	assert.Equal(t, "billing", a.Results["left-behind.0.name"])
	assert.Equal(t, "group billing: "+blocker, a.Results["left-behind.0.reason"])
	assert.Equal(t, "1", a.Results["summary.groups-left-behind"])
}

func TestGivenOneGroupNotTranslatableThenTheOthersAreWrittenAndItIsNamed(t *testing.T) {
	h := mirroring(t, 1)
	exact := billingExact()
	exact[0].Partitions[1].Err = errors.New("cannot find the copy on orders/1: not found")
	exact = append(exact, shopExact())
	s := &fakeSession{gates: []migration.Gates{{Groups: []string{"billing", "shop"}}}, exact: exact}
	h.kafka.session = s
	a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers"})

	assert.True(t, a.Failed)
	assert.Contains(t, a.FailMessage, "(1) group billing, partition orders/1: cannot find the copy on orders/1: not found")
	require.Contains(t, s.written, "shop")
	assert.NotContains(t, s.written, "billing", "nothing is written for a group with one inexact partition")
	assert.Equal(t, "1", a.Results["summary.groups"])
}

func TestGivenEveryGroupBlockedBySomethingSharedThenNothingMoves(t *testing.T) {
	h := mirroring(t, 1)
	shared := "cannot measure source broker 2: cannot list offsets: i/o timeout"
	s := &fakeSession{gates: []migration.Gates{{Groups: []string{"billing", "shop"}, Blockers: []string{shared}}},
		exact: []migration.GroupOffsets{shopExact()}}
	h.kafka.session = s
	a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers", "timeout": "5s"})

	assert.True(t, a.Failed)
	assert.Equal(t, "consumers cannot move yet after 5s: (1) "+shared, a.FailMessage)
	assert.Empty(t, s.written)
	assert.Empty(t, a.Results)
}

// After a consumers phase the target groups hold the cutover's exact offsets, not MM2's
// translation: the sync line says how many groups were moved instead of how many MM2 synced.
func TestGivenConsumersMovedThenTheSyncLineSaysSo(t *testing.T) {
	h := mirroring(t, 1)
	h.kafka.view = lagView(0, 1)
	blocker := "group billing still has 2 active members on the source"
	h.kafka.session = &fakeSession{
		gates: []migration.Gates{{Groups: []string{"billing", "shop"}, Blockers: []string{blocker},
			Blocked: map[string][]string{"billing": {blocker}}}},
		exact: []migration.GroupOffsets{shopExact()},
	}
	dry := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers", "timeout": "1s", "dry-run": true})
	require.True(t, dry.Failed)
	h.hook(h.unit(0), "update-status", nil, "")
	assert.Contains(t, h.status(h.unit(0)).Message, "groups 1/1 synced", "a dry run moves nothing")

	a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers", "timeout": "1s"})
	require.True(t, a.Failed)
	h.hook(h.unit(0), "update-status", nil, "")
	assert.Equal(t, "in sync 2 topics/12 partitions: 0 records behind; consumers moved: 1/2 groups at exact offsets",
		h.status(h.unit(0)).Message)
	assert.Equal(t, "1 2", h.peerData()[keyConsumersMoved], "stored as <moved> <judged>")
}

// Once the cutover is complete the target is live: start-migration must not restart MM2 into
// the topics clients now write to.
func TestGivenCutoverCompleteWhenStartMigrationThenRefusedAndNothingStarts(t *testing.T) {
	h := mirroring(t, 1)
	h.kafka.session = &fakeSession{moves: [][]migration.EndMove{nil}, views: []migration.SyncView{lagView(0, 1)}, verify: equalCopy()}
	done := h.action(h.unit(0), "cutover", map[string]any{"phase": "producers"})
	require.False(t, done.Failed, done.FailMessage)

	a := h.action(h.unit(0), "start-migration", nil)
	assert.True(t, a.Failed)
	assert.Equal(t, "cannot start the migration: the cutover is complete and clients use the target "+
		"(kafka-k8s-0.kafka-k8s-endpoints:9092); mirroring again would write into its live topics "+
		"(to migrate again, deploy a new application)", a.FailMessage)
	assert.Equal(t, string(migrationComplete), h.peerData()[keyMigration])
}

// A search bounded by scan-limit that ends before the exact position leaves its group behind
// saying how to read further; scan-limit reaches every search; a bad one is refused by name.
func TestGivenAScanLimitWhenCutoverConsumersThenItBoundsEverySearchAndAGroupPastItSaysHowToMove(t *testing.T) {
	h := mirroring(t, 1)
	exact := append(billingExact(), migration.GroupOffsets{Group: "audit", Partitions: []migration.PartitionOffset{
		{Topic: "orders", TargetTopic: "orders", Partition: 0, SourceCommitted: 7_000_000, CheckpointUpstream: -1, Checkpoint: -1, Exact: -1,
			Err: fmt.Errorf("cannot find the copy: %w", &migration.ScanLimitError{Limit: migration.ScanLimit{Offsets: 5000, Bytes: 5000 * 256}, From: 0, At: 5001})}}})
	s := &fakeSession{gates: []migration.Gates{{Groups: []string{"audit", "billing"}}}, exact: exact}
	h.kafka.session = s
	a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers", "scan-limit": float64(5000)})
	assert.Equal(t, migration.ScanLimit{Offsets: 5000, Bytes: 5000 * 256}, s.limit)
	require.True(t, a.Failed)
	assert.Contains(t, a.FailMessage, "group audit, partition orders/0: cannot find the copy: scan limit reached (5000 offsets or 1280000 bytes) "+
		"reading from offset 0 to 5001 (run again with scan-limit=50000 to read further)")
	assert.Equal(t, "billing", a.Results["groups.0.name"], "the other group moves")

	h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers"})
	assert.Equal(t, migration.ScanLimit{}, s.limit, "the default when not given")

	bad := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers", "scan-limit": float64(10)})
	require.True(t, bad.Failed)
	assert.Contains(t, bad.FailMessage, "scan-limit: want a whole number of offsets from 1000 to 1000000000000, got 10")
}
