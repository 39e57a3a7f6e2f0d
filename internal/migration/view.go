package migration

import (
	"fmt"
	"strings"
	"time"

	"mirrormaker-k8s/internal/mm2"
)

// SyncView is one measurement of a migration: how far MM2 has replicated
// every mirrored partition and whether every group's position has been
// translated onto the target. It is what the charm's status line, the
// cutover gates and the progress action read.
//
// A view can be partial: what could not be measured is named in Errors and
// left out of the totals (a partition of unknown lag has Lag -1), so a
// caller that needs certainty (a cutover gate) must check Complete.
type SyncView struct {
	// Taken is when the measurement started.
	Taken time.Time
	// Partitions are the mirrored source partitions, by topic then partition.
	Partitions []PartitionLag
	// Topics sum Partitions per source topic, by name.
	Topics []TopicLag
	// Groups are the source consumer groups the flow's filter selects, by
	// name.
	Groups []GroupView
	// Errors name what could not be measured; empty when the view is
	// complete.
	Errors []ItemError

	// RecordsBehind is the sum of the known partition lags.
	RecordsBehind int64
	// PartitionsCaughtUp counts partitions measured with lag 0;
	// PartitionsUnknown those whose lag could not be measured.
	PartitionsCaughtUp, PartitionsUnknown int
	// GroupsCounted counts groups with committed offsets on mirrored source
	// partitions; GroupsSynced those of them that are synced (see
	// GroupView.Synced).
	GroupsCounted, GroupsSynced int
	// GroupsCutoverOnly counts the counted groups MM2 will never sync (see
	// GroupView.CutoverOnly).
	GroupsCutoverOnly int
	// MirrorStarted reports that the flow's Connect offsets topic exists on
	// the target: MM2 has run at least once.
	MirrorStarted bool
}

// Complete reports whether everything was measured, so the totals are the
// whole truth rather than a lower bound.
func (v SyncView) Complete() bool { return len(v.Errors) == 0 }

// CaughtUp reports a complete view in which every mirrored partition has lag
// 0: everything the source holds has been written to the target.
func (v SyncView) CaughtUp() bool {
	return v.Complete() && v.PartitionsCaughtUp == len(v.Partitions)
}

// AllGroupsSynced reports a complete view in which every counted group is
// synced.
func (v SyncView) AllGroupsSynced() bool {
	return v.Complete() && v.GroupsSynced == v.GroupsCounted
}

// PartitionLag is how far MM2 is behind on one source partition.
type PartitionLag struct {
	Topic     string
	Partition int32
	// SourceStart and SourceEnd are the partition's log start offset and
	// high-water mark on the source.
	SourceStart, SourceEnd int64
	// Committed is the offset of the last record MM2 replicated (its Connect
	// offset), -1 when MM2 has not replicated anything from the partition.
	Committed int64
	// Lag is what MM2 still has to copy: the number of offsets from
	// Committed+1 (or the log start) to SourceEnd, an upper bound on
	// records; when that range is short (tailCheckMax) it is read and the
	// records MM2 will copy are counted exactly, so transaction markers and
	// (for a read_committed MM2) aborted records do not count. -1 when it
	// could not be measured (Err says why). MM2 stores Committed every
	// offset.flush.interval.ms, so Lag trails what is already written by up
	// to that interval: it can over-report, never under-report.
	Lag int64
	// TargetEnd is the end offset of the partition's copy on the target, read only when
	// Pair.TargetEnds asks for it (0 when it does not); -1 when asked but unknown.
	TargetEnd int64
	Err       error
}

// TopicLag sums one source topic's partitions.
type TopicLag struct {
	Topic string
	// TargetTopic is the topic's name on the target.
	TargetTopic string
	Partitions  int
	Lag         int64
	// Unknown counts partitions whose lag could not be measured.
	Unknown int
}

// GroupView is one consumer group on both sides of the flow.
type GroupView struct {
	Group string
	// SourceState and TargetState are the group states Kafka reports
	// (Empty, Stable, PreparingRebalance, CompletingRebalance, Dead; Dead
	// also for a group that does not exist), "" when unknown.
	SourceState, TargetState string
	// SourceMembers and TargetMembers count active members: consumers still
	// running in the group on that side.
	SourceMembers, TargetMembers int
	// Partitions are the mirrored source partitions the group has committed
	// offsets for, by topic then partition.
	Partitions []GroupPartition
	// Counted is false for a group with no committed offsets on mirrored
	// partitions: there is nothing to carry across, and it is left out of
	// SyncView's group totals.
	Counted bool
	// Synced means MM2 has done all it can for the group: the group is
	// counted and, for every partition it has committed on the source, MM2's
	// latest checkpoint translated that very committed offset (its upstream
	// offset equals the source committed offset) and the target group holds
	// the checkpoint's downstream offset. MM2's translation is coarse (it
	// rests on offset syncs every offset.lag.max records), so consumers moved
	// on a synced group may still re-read records; ExactOffsets finds the
	// exact position the cutover writes.
	Synced bool
	// CutoverOnly means a partition of the group is committed below the
	// source's log start with no checkpoint: MM2 translates no offset below
	// the first offset sync it keeps (its checkpoint would be -1, which it
	// drops), so it will never sync the group; only the cutover's exact
	// translation can move it.
	CutoverOnly bool
	Err         error
}

// Why a group partition is not synced (GroupPartition.Unsynced), in the
// words sync-status gives them.
const (
	UnsyncedBelowLogStart = "committed below the source's log start, which MM2 never checkpoints"
	UnsyncedNoCheckpoint  = "no checkpoint from MM2 yet (it gives none for an offset before the first offset sync it keeps)"
	UnsyncedOldCommit     = "MM2's checkpoint is of an earlier commit"
	UnsyncedTargetDiffers = "the target group does not hold MM2's checkpoint"
)

// unsyncedReason says why gp is not synced, "" when it is; start is the
// source log start, -1 when unknown.
func unsyncedReason(gp GroupPartition, start int64) string {
	c := gp.Checkpoint
	switch {
	case gp.Synced:
		return ""
	case c == nil && start >= 0 && gp.SourceCommitted < start:
		return UnsyncedBelowLogStart
	case c == nil:
		return UnsyncedNoCheckpoint
	case c.UpstreamOffset != gp.SourceCommitted:
		return UnsyncedOldCommit
	default:
		return UnsyncedTargetDiffers
	}
}

// Unsynced says why the group is not synced, "" when it is: each reason with
// the number of partitions it holds back, "MM2's checkpoint is of an earlier
// commit on 53/100 partitions".
func (g GroupView) Unsynced() string {
	if g.Synced || !g.Counted {
		return ""
	}
	if g.Err != nil {
		return g.Err.Error()
	}
	counts := map[string]int{}
	var order []string
	for _, p := range g.Partitions {
		if p.Unsynced == "" {
			continue
		}
		if counts[p.Unsynced] == 0 {
			order = append(order, p.Unsynced)
		}
		counts[p.Unsynced]++
	}
	parts := make([]string, len(order))
	for i, r := range order {
		parts[i] = fmt.Sprintf("%s on %d/%d partitions", r, counts[r], len(g.Partitions))
	}
	return strings.Join(parts, "; ")
}

// GroupPartition is one group's position on one mirrored partition.
type GroupPartition struct {
	// Topic is the source topic name; the target side is mm2.Flow.TargetTopic.
	Topic     string
	Partition int32
	// SourceCommitted and TargetCommitted are the group's committed offsets,
	// -1 for none (or unknown, when the target could not be asked).
	SourceCommitted, TargetCommitted int64
	// Checkpoint is MM2's latest checkpoint of the partition for the group,
	// nil when there is none.
	Checkpoint *mm2.Checkpoint
	// Synced is this partition's share of GroupView.Synced.
	Synced bool
	// Unsynced says why it is not synced, one of the Unsynced* reasons; ""
	// when it is.
	Unsynced string
}

// ItemError is one thing that could not be measured, named the way an
// operator would look for it ("source broker 2", "partition orders/3",
// "group billing on target").
type ItemError struct {
	Item string
	Err  error
}

// Error names the item first, as a status message would.
func (e ItemError) Error() string { return fmt.Sprintf("%s: %v", e.Item, e.Err) }

// Unwrap lets callers test the cause with errors.Is (sarama's KErrors, a
// context deadline).
func (e ItemError) Unwrap() error { return e.Err }

// lag is the number of source offsets MM2 still has to replicate: from the
// offset after the last one replicated (committed+1; the log start when MM2
// has replicated nothing, committed = -1) to the high-water mark. Records
// removed by retention below the log start will never be replicated, so
// the count starts at the log start at the earliest. On a compacted topic an
// offset range holds fewer records than offsets, so the figure is an upper
// bound on records; it is 0 exactly when MM2 has reached the end.
func lag(start, end, committed int64) int64 {
	next := max(committed+1, start)
	return max(end-next, 0)
}

// groupPartitionSynced applies the Synced definition to one partition.
func groupPartitionSynced(gp GroupPartition) bool {
	c := gp.Checkpoint
	return gp.SourceCommitted >= 0 && c != nil &&
		c.UpstreamOffset == gp.SourceCommitted &&
		gp.TargetCommitted == c.DownstreamOffset
}
