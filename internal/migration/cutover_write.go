package migration

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"mirrormaker-k8s/internal/kafka"
)

// cutoverWire is what the cutover writes beyond what Measure reads: one
// OffsetCommit. It is the only write this package makes, and only to the
// target.
type cutoverWire interface {
	wire
	// CommitOffsets commits offsets for group at broker, its coordinator,
	// as a consumer outside the group does (generation -1, no member id),
	// which Kafka accepts only while the group has no active member. The
	// map holds each partition's error, nil for success.
	CommitOffsets(ctx context.Context, broker int32, group string, offsets map[kafka.TopicPartition]int64) (map[kafka.TopicPartition]error, error)
}

// WriteGroupOffsets commits offsets for group on the target and reads them
// back, so the cutover proves what consumers will resume from rather than
// assuming it. The group must have no active member on the target: Kafka
// rejects commits from outside a live group.
//
// What is written may not stay: MM2's group-offset sync (3.9,
// MirrorCheckpointTask.syncGroupOffset) compares its translation with a
// snapshot of the target group's offsets taken up to one sync interval
// earlier, and writes its translation whenever the snapshot is lower or the
// group had none (a group that did not exist yet): an exact offset written
// in between is rewound to MM2's coarser one. Once a snapshot taken after
// the write is in place it never is again, as MM2's translation is never
// past the exact offset. CheckGroupOffsets, two intervals later, tells.
//
// The error names each partition the coordinator refused or that reads
// back differently; nil means every offset is committed as given.
func (p *Pair) WriteGroupOffsets(ctx context.Context, group string, offsets []TargetOffset) error {
	target := p.Target
	if target == nil {
		return errors.New("cannot write group offsets: no target cluster")
	}
	return writeGroupOffsets(ctx, target, group, offsets)
}

func writeGroupOffsets(ctx context.Context, w cutoverWire, group string, offsets []TargetOffset) error {
	if group == "" {
		return errors.New("cannot write group offsets: no group")
	}
	want := make(map[kafka.TopicPartition]int64, len(offsets))
	for _, o := range offsets {
		if o.Offset < 0 {
			return fmt.Errorf("cannot write offsets of group %s: partition %s/%d has no offset (%d)", group, o.Topic, o.Partition, o.Offset)
		}
		tp := kafka.TopicPartition{Topic: o.Topic, Partition: o.Partition}
		if prev, dup := want[tp]; dup && prev != o.Offset {
			return fmt.Errorf("cannot write offsets of group %s: partition %s/%d given twice (%d, %d)", group, o.Topic, o.Partition, prev, o.Offset)
		}
		want[tp] = o.Offset
	}
	if len(want) == 0 {
		return fmt.Errorf("cannot write offsets of group %s: no offsets given", group)
	}
	coordinator, err := w.FindCoordinator(ctx, group)
	if err != nil {
		return fmt.Errorf("cannot write offsets of group %s: cannot find its coordinator: %w", group, err)
	}
	states, err := w.DescribeGroups(ctx, coordinator, []string{group})
	if err != nil {
		return fmt.Errorf("cannot write offsets of group %s: cannot describe it: %w", group, err)
	}
	s, ok := states[group]
	switch {
	case !ok:
		return fmt.Errorf("cannot write offsets of group %s: coordinator did not describe it", group)
	case s.Err != nil:
		return fmt.Errorf("cannot write offsets of group %s: cannot describe it: %w", group, s.Err)
	case s.Members > 0 || !idleState(s.State):
		return fmt.Errorf("cannot write offsets of group %s: it is active on the target (%s, %d members)", group, s.State, s.Members)
	}

	answers, err := w.CommitOffsets(ctx, coordinator, group, want)
	if err != nil {
		return fmt.Errorf("cannot write offsets of group %s: %w", group, err)
	}
	var refused []string
	for _, tp := range kafka.SortedPartitions(want) {
		if err, ok := answers[tp]; !ok || err != nil {
			if !ok {
				err = errors.New("no answer")
			}
			refused = append(refused, fmt.Sprintf("partition %s/%d: %v", tp.Topic, tp.Partition, err))
		}
	}
	if len(refused) > 0 {
		return fmt.Errorf("cannot write offsets of group %s: %s", group, strings.Join(refused, "; "))
	}

	if mismatched, err := readBack(ctx, w, coordinator, group, want); err != nil {
		return err
	} else if len(mismatched) > 0 {
		return fmt.Errorf("offsets of group %s differ after writing: %s", group, strings.Join(mismatched, "; "))
	}
	return nil
}

// CheckGroupOffsets reads group's offsets on the target and returns an
// error naming each partition that no longer holds the offset given (see
// WriteGroupOffsets for why one might not).
func (p *Pair) CheckGroupOffsets(ctx context.Context, group string, offsets []TargetOffset) error {
	if p.Target == nil {
		return errors.New("cannot check group offsets: no target cluster")
	}
	return checkGroupOffsets(ctx, p.Target, group, offsets)
}

func checkGroupOffsets(ctx context.Context, w wire, group string, offsets []TargetOffset) error {
	want := make(map[kafka.TopicPartition]int64, len(offsets))
	for _, o := range offsets {
		want[kafka.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.Offset
	}
	coordinator, err := w.FindCoordinator(ctx, group)
	if err != nil {
		return fmt.Errorf("cannot check offsets of group %s: cannot find its coordinator: %w", group, err)
	}
	mismatched, err := readBack(ctx, w, coordinator, group, want)
	if err != nil {
		return err
	}
	if len(mismatched) > 0 {
		return fmt.Errorf("offsets of group %s changed on the target: %s", group, strings.Join(mismatched, "; "))
	}
	return nil
}

// readBack fetches group's committed offsets from its coordinator and says
// how each partition of want differs, sorted.
func readBack(ctx context.Context, w wire, coordinator int32, group string, want map[kafka.TopicPartition]int64) ([]string, error) {
	read, err := w.FetchOffsets(ctx, coordinator, []string{group})
	if err != nil {
		return nil, fmt.Errorf("cannot read back offsets of group %s: %w", group, err)
	}
	got, ok := read[group]
	switch {
	case !ok:
		return nil, fmt.Errorf("cannot read back offsets of group %s: coordinator did not answer", group)
	case got.Err != nil:
		return nil, fmt.Errorf("cannot read back offsets of group %s: %w", group, got.Err)
	}
	var mismatched []string
	for _, tp := range kafka.SortedPartitions(want) {
		switch off, ok := got.Offsets[tp]; {
		case !ok:
			mismatched = append(mismatched, fmt.Sprintf("partition %s/%d reads back no offset, not %d", tp.Topic, tp.Partition, want[tp]))
		case off != want[tp]:
			mismatched = append(mismatched, fmt.Sprintf("partition %s/%d reads back %d, not %d", tp.Topic, tp.Partition, off, want[tp]))
		}
	}
	sort.Strings(mismatched)
	return mismatched, nil
}

// idleState is a group state without consumers: Empty, or Dead for a group
// that does not exist (yet).
func idleState(state string) bool { return state == "Empty" || state == "Dead" }
