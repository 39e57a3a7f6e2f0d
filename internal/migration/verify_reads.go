package migration

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"

	"mirrormaker-k8s/internal/kafka"
)

// The reads the producer-phase proof compares: short windows of records
// kept whole, and running counts and hashes of whole partitions.

// window is one read of a short range, keeping its records.
type window struct {
	cur     *cursor
	from    int64
	records []kafka.Record
	started bool
}

func newWindow(side *scanSide, tp kafka.TopicPartition, from, to int64) *window {
	b := &budget{limit: ScanLimit{Offsets: to - from + 1, Bytes: 1 << 62}, from: from}
	return &window{cur: newCursor(side, tp, from, to, b, nil), from: from}
}

func (w *window) step(done *cursor) *cursor {
	if w.started {
		return nil
	}
	w.started = true
	w.cur.visit = func(r kafka.Record) bool {
		w.records = append(w.records, r)
		return false
	}
	return w.cur
}

// dense reports a record at every offset of the window: no marker, no
// compaction gap, no aborted record skipped.
func (w *window) dense() bool {
	if int64(len(w.records)) != w.cur.end-w.from {
		return false
	}
	for i, r := range w.records {
		if r.Offset != w.from+int64(i) {
			return false
		}
	}
	return true
}

func (w *window) sum(withTime bool) [sha256.Size]byte {
	h := sha256.New()
	for _, r := range w.records {
		hashRecord(h, r, withTime)
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
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
