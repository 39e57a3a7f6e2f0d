package migration

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"

	"mirrormaker-k8s/internal/kafka"
)

// The reads the producer-phase proof compares: short windows of records
// kept whole, and running counts and hashes of whole partitions.

// window is one read of a short range, hashed as it is read rather than
// kept: a proof of 2,000 partitions reads a hundred records of each per
// side, which kept whole would hold hundreds of megabytes of values.
type window struct {
	cur      *cursor
	from     int64
	withTime bool
	h        hash.Hash
	n        int64
	bytes    int64 // of keys, values and headers read
	// gapless is false once a record was not at the offset after the
	// previous one.
	gapless bool
	started bool
}

// windowFetchBytes is what a window asks per partition at first. A broker
// answers from the asked offset up to the partition's room, whatever the
// window needs: with the 1 MiB of whole reads, each of a partition's five
// windows brought back the rest of the partition, and a proof of 2,000
// partitions decoded gigabytes to compare a few megabytes. A window whose
// records do not fit asks again with the usual room (readStep).
const windowFetchBytes = 64 << 10

func newWindow(side *scanSide, tp kafka.TopicPartition, from, to int64, withTime bool) *window {
	b := &budget{limit: ScanLimit{Offsets: to - from + 1, Bytes: 1 << 62}, from: from}
	cur := newCursor(side, tp, from, to, b, nil)
	cur.maxBytes = windowFetchBytes
	return &window{cur: cur, from: from, withTime: withTime, h: sha256.New(), gapless: true}
}

func (w *window) step(done *cursor) *cursor {
	if w.started {
		return nil
	}
	w.started = true
	w.cur.visit = func(r kafka.Record) bool {
		w.gapless = w.gapless && r.Offset == w.from+w.n
		w.n++
		w.bytes += recordSize(r)
		hashRecord(w.h, r, w.withTime)
		return false
	}
	return w.cur
}

// dense reports a record at every offset of the window: no marker, no
// compaction gap, no aborted record skipped.
func (w *window) dense() bool { return w.gapless && w.n == w.cur.end-w.from }

func (w *window) sum() [sha256.Size]byte {
	var out [sha256.Size]byte
	w.h.Sum(out[:0])
	return out
}

// hashRecord writes what MM2 copies of r, unambiguously: timestamp (unless
// withTime is false), then key, value and each header as length-prefixed
// bytes (-1 for null).
func hashRecord(h hash.Hash, r kafka.Record, withTime bool) {
	var b [8]byte
	if withTime {
		binary.BigEndian.PutUint64(b[:], uint64(r.Timestamp))
		h.Write(b[:])
	}
	putBytes := func(p []byte) {
		n := int64(len(p))
		if p == nil {
			n = -1
		}
		binary.BigEndian.PutUint64(b[:], uint64(n))
		h.Write(b[:])
		h.Write(p)
	}
	putBytes(r.Key)
	putBytes(r.Value)
	binary.BigEndian.PutUint64(b[:], uint64(len(r.Headers)))
	h.Write(b[:])
	for _, hd := range r.Headers {
		putBytes(hd.Key)
		putBytes(hd.Value)
	}
}

// planTails sets the first pass's window of each partition whose sides
// span as many offsets (its tail, SampleSize records) and returns them as
// the searches to run.
func (r *verifyRun) planTails() []search {
	// One scanSide per side: reads are batched by side and broker, and
	// take turns by side and partition.
	r.srcScan = &scanSide{side: r.source, iso: isolationOf(r.flow)}
	r.tgtScan = &scanSide{side: r.target, iso: readCommitted}
	r.samples = make([][]windowPair, len(r.mirrored))
	r.small = make([]bool, len(r.mirrored))
	var searches []search
	for i := range r.mirrored {
		if sn, ok := r.sampled(i); ok {
			tail := min(int64(r.opts.SampleSize), sn)
			searches = append(searches, r.addWindow(i, tail, tail)...)
		}
	}
	return searches
}

// planSpread sets spreadSamples single records, evenly spaced, of each
// partition its tail says is large, and returns them as the searches to
// run. A broker answers a read with whole producer batches, so each window
// costs at least a batch: a partition whose size, estimated from its tail's
// records, is under wholeBelowBytes is cheaper to read whole, and is.
func (r *verifyRun) planSpread() []search {
	below := r.opts.WholeBelow
	if below == 0 {
		below = wholeBelowBytes
	}
	var searches []search
	for i := range r.mirrored {
		sn, ok := r.sampled(i)
		if !ok || len(r.samples[i]) == 0 {
			continue
		}
		tail := r.samples[i][0]
		if tail.s.cur.err != nil || tail.t.cur.err != nil {
			continue // judged as such
		}
		if tail.s.n > 0 && sn*tail.s.bytes/tail.s.n <= below {
			r.small[i] = true
			continue
		}
		rest := sn - tail.s.cur.end + tail.s.from
		if rest < spreadSamples {
			continue
		}
		for k := int64(1); k <= spreadSamples; k++ {
			// Over what the tail does not cover, as distances from the end
			// so both sides line up.
			searches = append(searches, r.addWindow(i, sn-(k-1)*rest/spreadSamples, 1)...)
		}
	}
	return searches
}

// wholeBelowBytes is the estimated size under which a partition is read
// whole rather than sampled: about what its windows' fetches would bring.
const wholeBelowBytes = 1 << 20

// sampled reports whether partition i is sampled (its sides span as many
// offsets, it is not compacted, nothing failed yet), and how many offsets.
func (r *verifyRun) sampled(i int) (int64, bool) {
	if r.checks[i].Err != nil || r.kinds[i].compacted {
		return 0, false // compaction makes the counts differ: read whole
	}
	s, t := r.sEnds[r.mirrored[i]], r.tEnds[r.targets[i]]
	sn := s.end - s.start
	return sn, sn == t.end-t.start // else the counts differ in offsets already: read whole
}

// addWindow reads n records of partition i on both sides, fromEnd offsets
// before each side's end.
func (r *verifyRun) addWindow(i int, fromEnd, n int64) []search {
	if n <= 0 {
		return nil
	}
	tp, ttp := r.mirrored[i], r.targets[i]
	s, t := r.sEnds[tp], r.tEnds[ttp]
	withTime := !r.kinds[i].appendTime
	sw := newWindow(r.srcScan, tp, s.end-fromEnd, s.end-fromEnd+n, withTime)
	tw := newWindow(r.tgtScan, ttp, t.end-fromEnd, t.end-fromEnd+n, withTime)
	r.samples[i] = append(r.samples[i], windowPair{sw, tw})
	return []search{sw, tw}
}
