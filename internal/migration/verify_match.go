package migration

import (
	"fmt"
	"hash/maphash"

	"mirrormaker-k8s/internal/kafka"
)

// The comparisons of whole partitions, one per topic kind, over records
// reduced to 64-bit hashes so that a round holds a million records per
// side in 16 MiB. The hashes are seeded per run: an accidental collision
// between two different records is about one in 10^7 at a million records
// per partition, and could only make two different records look equal.

// hashed is one record's hash and offset.
type hashed struct {
	h   uint64
	off int64
}

// recordHasher hashes what MM2 copies of a record: key, value, headers
// and, unless the target stamps its own, the timestamp.
type recordHasher struct{ seed maphash.Seed }

func newRecordHasher() recordHasher { return recordHasher{seed: maphash.MakeSeed()} }

func (rh recordHasher) record(r kafka.Record, withTime bool) uint64 {
	var h maphash.Hash
	h.SetSeed(rh.seed)
	hashRecord(&h, r, withTime)
	return h.Sum64()
}

func (rh recordHasher) key(k []byte) uint64 { return maphash.Bytes(rh.seed, k) }

// sequenceMatch is a delete-policy partition's source records against its
// copy's. MM2 copies in order, so the source's records must appear on the
// target in the same order; an unclean stop (SIGKILL, OOM, node loss)
// makes MM2 resume from its last flushed offset and copy a run again, so
// the target may hold repeats of runs it already holds. Retention removes
// each side's oldest records at its own moment, so the two are compared
// over the window both still hold: from the target's first record found on
// the source (the target lost the ones before), or from the source's first
// record found on the target (the source lost the ones before).
type sequenceMatch struct {
	// Matched are source records found in order on the target.
	Matched int64
	// Duplicates are target records repeating a source record already
	// matched.
	Duplicates int64
	// SourceBefore are source records before the window: their copies are
	// no longer on the target. TargetBefore are target records before it:
	// copies of records the source no longer holds.
	SourceBefore, TargetBefore int64
	// Missing are source records in the window with no copy; FirstMissing
	// is the offset of the first. Foreign are target records that copy no
	// source record; FirstForeign is the target offset of the first.
	Missing, Foreign           int64
	FirstMissing, FirstForeign int64
}

// matchSequences walks tgt against src. srcStart and tgtStart are the
// sides' log starts: a window that begins past a side's first record is
// only accepted when that side's log start says records were removed;
// otherwise the records before were never copied (or never came from the
// source) and count as missing (or foreign).
func matchSequences(src, tgt []hashed, srcStart, tgtStart int64) sequenceMatch {
	m := sequenceMatch{FirstMissing: -1, FirstForeign: -1}
	var firstAt map[uint64]int // source hash -> index of its first occurrence, built on demand
	indexOf := func(h uint64) int {
		if firstAt == nil {
			firstAt = make(map[uint64]int, len(src))
			for i := len(src) - 1; i >= 0; i-- {
				firstAt[src[i].h] = i
			}
		}
		if i, ok := firstAt[h]; ok {
			return i
		}
		return -1
	}

	i := 0           // the next source record to match
	started := false // a record matched: the window has begun
	replay := -1     // the source index a run being repeated is expected at next
	for k := range tgt {
		h := tgt[k].h
		if i < len(src) && src[i].h == h {
			i, started, replay = i+1, true, -1
			m.Matched++
			continue
		}
		if replay >= 0 && replay < i && src[replay].h == h {
			replay++
			m.Duplicates++
			continue
		}
		switch j := indexOf(h); {
		case j >= 0 && j < i: // a run copied again (its first copy may be before the window)
			replay = j + 1
			m.Duplicates++
		case j > i: // the source records in between have no copy
			if !started && tgtStart > 0 {
				m.SourceBefore = int64(j - i) // removed from the target by retention
			} else {
				m.missed(src[i].off, int64(j-i))
			}
			i, started, replay = j+1, true, -1
			m.Matched++
		case !started && srcStart > 0: // the copy of a record the source removed
			m.TargetBefore++
		default:
			if m.Foreign == 0 {
				m.FirstForeign = tgt[k].off
			}
			m.Foreign++
		}
	}
	if i < len(src) {
		m.missed(src[i].off, int64(len(src)-i))
	}
	return m
}

func (m *sequenceMatch) missed(first, n int64) {
	if m.Missing == 0 {
		m.FirstMissing = first
	}
	m.Missing += n
}

func (m sequenceMatch) equal() bool { return m.Missing == 0 && m.Foreign == 0 }

// why says what differs, in words, "" when nothing does.
func (m sequenceMatch) why() string {
	switch {
	case m.Missing > 0 && m.Foreign > 0:
		return fmt.Sprintf("%d source record(s) have no copy (the first at offset %d) and %d target record(s) copy no source record (the first at offset %d)",
			m.Missing, m.FirstMissing, m.Foreign, m.FirstForeign)
	case m.Missing > 0:
		return fmt.Sprintf("%d source record(s) have no copy on the target, the first at offset %d", m.Missing, m.FirstMissing)
	case m.Foreign > 0:
		return fmt.Sprintf("%d target record(s) copy no source record, the first at offset %d", m.Foreign, m.FirstForeign)
	}
	return ""
}

// latestMatch is a compacted partition's latest value per key on both
// sides. Each side's cleaner keeps the latest record of every key and drops
// the others when it chooses, and drops a tombstone (a null value) after
// delete.retention.ms, so what both sides must agree on is the set of live
// keys and each one's latest record; counts and offsets differ by design.
type latestMatch struct {
	// Keys are the live keys on either side; Differ those whose latest
	// record differs or lives on one side only. FirstDiffer is the source
	// offset (or, for a key only the target holds, the target offset) of
	// the first such key's latest record in offset order.
	Keys, Differ int64
	FirstDiffer  int64
}

// latest is a compacted partition's live keys: key hash -> latest
// record's hash and offset.
type latest map[uint64]hashed

func (l latest) put(key uint64, r hashed, tombstone bool) {
	if tombstone {
		delete(l, key)
		return
	}
	l[key] = r
}

func matchLatest(src, tgt latest) latestMatch {
	m := latestMatch{FirstDiffer: -1}
	note := func(off int64) {
		m.Differ++
		if m.FirstDiffer < 0 || off < m.FirstDiffer {
			m.FirstDiffer = off
		}
	}
	for k, s := range src {
		m.Keys++
		if t, ok := tgt[k]; !ok || t.h != s.h {
			note(s.off)
		}
	}
	for k, t := range tgt {
		if _, ok := src[k]; !ok {
			m.Keys++
			note(t.off)
		}
	}
	return m
}

func (m latestMatch) why() string {
	if m.Differ == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d key(s) differ in their latest record (the first at offset %d)", m.Differ, m.Keys, m.FirstDiffer)
}
