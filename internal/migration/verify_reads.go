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
