package migration

import (
	"mirrormaker-k8s/internal/kafka"
)

// The second search of an exact translation: the anchor's copy on the target.

// copySearch finds, on the target, the first copy of anchor at or after
// MM2's translation, counting the records it passes from the checkpoint on.
//
// Where to start: MM2 translates C through its latest offset sync (U, V)
// with U <= C, to V when U == C and to V+1 otherwise, so its checkpoint's
// downstream offset W is at most the copy of the first record at or after
// C, and at least one past the copy of a record below C unless U == C. In
// every case the copy of the last record below C is at or after the last
// record the target holds below W (markers and aborted copies of an
// exactly-once MM2 may sit between), which is where the search starts; the
// copy of the first record at or after C is at or after W. A checkpoint of
// an offset above C (the group rewound since) bounds nothing, and neither
// does a missing one: the search then starts at the first target record
// stamped at or after the anchor (MM2 copies timestamps, so the copy is
// there or later), or at the target's log start for a LogAppendTime target
// or a compacted topic's candidates (see startAtTimestamps).
type copySearch struct {
	side       *scanSide
	tp         kafka.TopicPartition // target
	start, end int64                // target log start and last stable offset
	anchor     *kafka.Record
	// below is true when anchor is the last record below C (D is its
	// copy + 1), false when it is the first at or after C (D is its copy).
	below      bool
	checkpoint int64 // a usable checkpoint's downstream offset, or -1
	b          *budget
	// withTime is false for a target topic stamping LogAppendTime: copies
	// are recognised without their timestamp.
	withTime bool
	// wanted, for a compacted topic, are the candidates of anchorSearch's
	// following: the first target record among them is the match, and
	// matchedSource the source offset it copies.
	wanted        map[uint64]int64
	hash          func(kafka.Record) uint64
	matchedSource int64

	floor    *lastBelow
	scanning bool
	scanFrom int64
	match    int64
	// counted is the records from checkpoint up to D (see ReplaysAvoided).
	counted int64
	err     error
}

func (s *copySearch) step(done *cursor) *cursor {
	if !s.scanning {
		if s.floor == nil {
			s.scanFrom = s.start
			if s.checkpoint > s.start {
				s.floor = newLastBelow(s.side, s.tp, s.start, min(s.checkpoint, s.end), s.b)
				done = nil
			}
		}
		if s.floor != nil {
			if c := s.floor.step(done); c != nil {
				return c
			}
			if s.floor.err != nil {
				s.err = s.floor.err
				return nil
			}
			if s.floor.found != nil {
				s.scanFrom = s.floor.found.Offset
			}
		}
		s.scanning = true
		if s.anchor == nil && s.checkpoint < 0 {
			return nil // nothing to look for, nothing to count
		}
		return newCursor(s.side, s.tp, s.scanFrom, s.end, s.b, s.visit)
	}
	if done.err != nil {
		s.err = done.err
	}
	return nil
}

func (s *copySearch) visit(r kafka.Record) bool {
	counts := s.checkpoint >= 0 && r.Offset >= s.checkpoint
	if s.matches(r) {
		s.match = r.Offset
		switch {
		case s.below && counts:
			s.counted++ // D is past it: a record MM2's translation replays
		case !s.below && s.checkpoint >= 0 && !counts:
			s.counted-- // D is before the checkpoint: MM2 would skip it
		}
		return true
	}
	if counts {
		s.counted++
	}
	return false
}

// matches reports whether r is the copy looked for.
func (s *copySearch) matches(r kafka.Record) bool {
	if s.wanted != nil {
		off, ok := s.wanted[s.hash(r)]
		if ok {
			s.matchedSource = off
		}
		return ok
	}
	return s.anchor != nil && sameRecord(r, *s.anchor, s.withTime)
}
