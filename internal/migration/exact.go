package migration

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
)

// The exact translation of group offsets, for the cutover of consumers.
//
// MM2 translates a group's committed offset C through its offset syncs,
// which it emits only every offset.lag.max records and keeps 64 of per
// partition: its checkpoint's downstream offset V is safe (never past the
// copy of the first record at or after C) but coarse, so consumers moved to
// the target replay the records between V and the exact position, and
// nothing tells them how many. Once MM2 has copied past C, the exact
// position can be found by reading: take the last record on the source
// below C (the anchor), find its copy on the target at or after MM2's
// translation, and the exact offset D is the copy's offset + 1, the next
// record the moved consumer must read being the copy of the first source
// record at or after C.
//
// A copy is recognised by content: MM2 copies key, value, headers and
// timestamp unchanged. Offsets cannot be used, since markers and
// compaction make the two logs' offsets diverge. Two different source
// records with identical content can make the search stop at the earlier
// one's copy; because the search starts below the true copy (see
// copySearch), that can only give an offset before the exact one (records
// replayed), never after it (records skipped).

// GroupOffsets is the exact translation of one group's committed offsets.
type GroupOffsets struct {
	Group string
	// Partitions are the mirrored source partitions the group has committed
	// offsets for, by topic then partition.
	Partitions []PartitionOffset
	// Err is set when the group's committed offsets could not be read.
	Err error
}

// PartitionOffset is one group's position on one mirrored partition, as
// MM2 translated it and exactly.
type PartitionOffset struct {
	// Topic is the source topic; TargetTopic its name on the target.
	Topic, TargetTopic string
	Partition          int32
	// SourceCommitted is the group's committed offset on the source.
	SourceCommitted int64
	// CheckpointUpstream and Checkpoint are MM2's latest checkpoint for the
	// group and partition: the source offset it translated and the target
	// offset it translated it to; -1 when there is none.
	CheckpointUpstream, Checkpoint int64
	// Exact is the target offset the group must commit to resume exactly
	// where it stopped on the source; -1 when Err is set.
	Exact int64
	// ReplaysAvoided is the number of records (not offsets: markers occupy
	// offsets on the target too) on the target from Checkpoint up to Exact:
	// what a consumer started at MM2's translation would have read a second
	// time. -1 when there is no checkpoint of an offset at or below
	// SourceCommitted to compare with (a group that rewound after MM2's
	// last checkpoint). It can be negative only if MM2's translation were
	// past the exact position, by that many records.
	ReplaysAvoided int64
	// Anchor is the source offset of the record the translation rests on:
	// the last record below SourceCommitted that MM2 copies or, when there
	// is none (nothing consumed, or everything below removed), the first
	// at or after it; -1 when the source holds no record at all.
	// AnchorCopy is the target offset of its copy, -1 when it has none yet.
	Anchor, AnchorCopy int64
	// How says in a few words how Exact was found, for the action's log:
	// "copy of the last record below", "copy of the first record at or
	// after", "target end: source record not copied yet", "target end:
	// source holds no record".
	How string
	Err error
}

// TargetOffset is one committed offset to write on the target.
type TargetOffset struct {
	Topic     string
	Partition int32
	Offset    int64
}

// Complete reports whether every partition of the group was translated.
func (g GroupOffsets) Complete() bool {
	if g.Err != nil {
		return false
	}
	for _, p := range g.Partitions {
		if p.Err != nil {
			return false
		}
	}
	return true
}

// Targets are the exact offsets to commit on the target, for
// WriteGroupOffsets; partitions that failed are left out, so check
// Complete first.
func (g GroupOffsets) Targets() []TargetOffset {
	var out []TargetOffset
	for _, p := range g.Partitions {
		if p.Err == nil {
			out = append(out, TargetOffset{Topic: p.TargetTopic, Partition: p.Partition, Offset: p.Exact})
		}
	}
	return out
}

// ExactOffsets translates the committed offsets of groups (every consumer
// group the flow's filter selects when nil) exactly, within limit per
// search (the zero ScanLimit is a million offsets or 256 MiB).
//
// For each group and mirrored partition with source committed offset C it
// reads, on the source, the last record below C that MM2 copies (skipping
// transaction markers, compaction gaps and, for a read_committed MM2,
// aborted records, which have no copy), in windows growing down from C;
// then, on the target, read_committed (so markers and aborted copies of an
// exactly-once MM2 do not count), forward from MM2's checkpoint for the
// record with the same content. When the source holds no such record below
// C, the first record at or after C is matched instead and D is its copy's
// offset; when that is not copied yet, or the source holds nothing at all,
// D is the target's end. The result is only as final as the group: run it
// once consumers have stopped and MM2 has copied past C (Gates).
//
// Reads are batched: every search in progress reads in the same rounds,
// one Fetch per leader broker per round, with searches of one partition
// taking turns. The error is for when nothing can be translated (no
// cluster, an invalid flow, a cluster that cannot describe its topics);
// what fails for a group or a partition is in its Err.
func (p *Pair) ExactOffsets(ctx context.Context, flow mm2.Flow, groups []string, limit ScanLimit) ([]GroupOffsets, error) {
	source, target := p.Source, p.Target
	if source == nil || target == nil {
		return nil, errors.New("cannot translate offsets: both clusters are needed")
	}
	if limit == (ScanLimit{}) {
		limit = defaultScanLimit
	}
	return exactOffsets(ctx, source, target, flow, groups, limit, p.Book)
}

// conclude fills r from its searches; progress is MM2's last copied source
// offset (-1 for none), which tells "not copied yet" from "not found", and
// progressErr why it is unknown, when it is.
func conclude(r *PartitionOffset, a *anchorSearch, cs *copySearch, progress int64, progressErr error) {
	if cs.err != nil {
		r.Err = fmt.Errorf("cannot find the copy on %s/%d: %w", cs.tp.Topic, cs.tp.Partition, cs.err)
		return
	}
	if a.anchor != nil {
		r.Anchor = a.anchor.Offset
	}
	switch {
	case a.anchor == nil:
		r.Exact, r.How = cs.end, "target end: source holds no record"
	case cs.match >= 0 && cs.below:
		r.AnchorCopy, r.Exact, r.How = cs.match, cs.match+1, "copy of the last record below"
	case cs.match >= 0 && cs.matchedSource > a.anchor.Offset:
		r.Anchor, r.AnchorCopy, r.Exact = cs.matchedSource, cs.match, cs.match
		r.How = "copy of the first record at or after that both sides kept (compacted)"
	case cs.match >= 0:
		r.AnchorCopy, r.Exact, r.How = cs.match, cs.match, "copy of the first record at or after"
	case progressErr != nil:
		// No copy was found, and without MM2's progress "not copied yet" cannot be told from
		// "copied but not recognised": placing the group at the target end could skip records.
		r.Err = fmt.Errorf("cannot tell whether MM2 has copied source record %s/%d@%d: its progress is unknown: %w",
			r.Topic, r.Partition, a.anchor.Offset, progressErr)
		return
	case !cs.below && progress < a.anchor.Offset:
		// Nothing below C is copyable and the first record at or after C is
		// not copied yet: its copy will be the next record written.
		r.Exact, r.How = cs.end, "target end: source record not copied yet"
	case progress < a.anchor.Offset:
		r.Err = fmt.Errorf("cannot translate yet: source record %s/%d@%d not copied (MM2 at %d)", r.Topic, r.Partition, a.anchor.Offset, progress)
		return
	default:
		r.Err = fmt.Errorf("cannot find the copy of source record %s/%d@%d on %s/%d between offsets %d and %d",
			r.Topic, r.Partition, a.anchor.Offset, cs.tp.Topic, cs.tp.Partition, cs.scanFrom, cs.end)
		return
	}
	if cs.checkpoint >= 0 {
		r.ReplaysAvoided = cs.counted
	}
}

func endName(readCommitted bool) string {
	if readCommitted {
		return "last stable offset"
	}
	return "end offset"
}

func sortedUnique(ss []string) []string {
	out := append([]string(nil), ss...)
	sort.Strings(out)
	n := 0
	for i, s := range out {
		if i == 0 || s != out[n-1] {
			out[n] = s
			n++
		}
	}
	return out[:n]
}

// anchorSearch finds, on the source, the record the translation of
// committed offset committed rests on: the last record of [start,
// committed) that MM2 copies, else the first of [committed, end).
type anchorSearch struct {
	side      *scanSide
	tp        kafka.TopicPartition
	committed int64
	// start and end bound what can be read: the log start and the
	// high-water mark (last stable offset for a read_committed MM2).
	start, end int64
	b          *budget

	// following, for a compacted topic, collects the hashes of the first
	// followLimit records at or after committed (hash -> source offset of
	// its first occurrence), and no record below is looked for: the copy
	// of the first record at or after committed may be gone from the
	// target, replaced by a later record of its key, so the exact position
	// is the copy of the first of them that both sides kept.
	following map[uint64]int64
	hash      func(kafka.Record) uint64

	below   *lastBelow
	atCur   *cursor
	anchor  *kafka.Record
	err     error
	started bool
}

// followLimit is how many records at or after a committed offset of a
// compacted topic are candidates for the first one both sides kept. The
// last record of every key survives on both sides, so one is found among
// the first few unless a cleaner removed very many.
const followLimit = 100_000

func (s *anchorSearch) step(done *cursor) *cursor {
	if !s.started {
		s.started = true
		if s.following == nil {
			s.below = newLastBelow(s.side, s.tp, s.start, min(s.committed, s.end), s.b)
		}
		done = nil
	}
	if s.atCur == nil {
		if s.below != nil {
			if c := s.below.step(done); c != nil {
				return c
			}
			switch {
			case s.below.err != nil:
				s.err = s.below.err
				return nil
			case s.below.found != nil:
				s.anchor = s.below.found
				return nil
			}
		}
		from := max(s.committed, s.start)
		if from >= s.end {
			return nil // the source holds no record
		}
		s.atCur = newCursor(s.side, s.tp, from, s.end, s.b, s.visitAtOrAfter)
		return s.atCur
	}
	if done.err != nil {
		s.err = done.err
	}
	return nil
}

// visitAtOrAfter takes the first record at or after the committed offset
// as the anchor and, for a compacted topic, the following ones as
// candidates.
func (s *anchorSearch) visitAtOrAfter(r kafka.Record) bool {
	if s.anchor == nil {
		s.anchor = &r
	}
	if s.following == nil {
		return true
	}
	if h := s.hash(r); !containsKey(s.following, h) {
		s.following[h] = r.Offset
	}
	return len(s.following) >= followLimit
}

func containsKey[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}
