package migration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"mirrormaker-k8s/internal/kafka"
)

// Bounded, batched reads for the exact translation: many small searches,
// each over one partition, some backwards in growing windows, some forwards
// until a record matches. They run together in rounds: each round sends one
// Fetch per leader broker of each cluster (all in parallel) carrying every
// partition that has a search in progress, so requests grow with the number
// of rounds, not of partitions. A partition appears once per Fetch, so two
// searches of the same partition (two groups at different positions) take
// turns, one per round.

// ScanLimit bounds the reading one search may do on one partition. The
// search for a record's copy starts at MM2's own translation, which lags the
// exact position by up to offset.lag.max records plus the checkpoint
// interval's worth of traffic, so a generous bound costs nothing at cutover,
// and a search that exceeds it fails for its partition alone, saying so.
type ScanLimit struct {
	// Offsets is the most offsets a search may read through (records,
	// transaction markers and compaction gaps alike).
	Offsets int64
	// Bytes is the most record bytes (keys, values, headers) a search may
	// read.
	Bytes int64
}

// defaultScanLimit is a million offsets or 256 MiB per search, a few
// seconds of reading.
var defaultScanLimit = ScanLimit{Offsets: 1_000_000, Bytes: 256 << 20}

// ScanLimitError is a search that reached its ScanLimit before finding what
// it looked for.
type ScanLimitError struct {
	Limit ScanLimit
	// From and At are the offsets where the search started and stopped.
	From, At int64
}

func (e *ScanLimitError) Error() string {
	return fmt.Sprintf("scan limit reached (%d offsets or %d bytes) reading from offset %d to %d",
		e.Limit.Offsets, e.Limit.Bytes, e.From, e.At)
}

// scanSide is one cluster as the searches read it.
type scanSide struct {
	*side
	iso isolation
}

// budget is what a search has spent, shared by all its reads.
type budget struct {
	limit          ScanLimit
	offsets, bytes int64
	from           int64
}

func (b *budget) exceeded() bool {
	return b.offsets > b.limit.Offsets || b.bytes > b.limit.Bytes
}

// cursor is one forward read of [offset, end) of a partition: visit sees
// each record in offset order until it returns true (stop).
type cursor struct {
	side     *scanSide
	tp       kafka.TopicPartition
	offset   int64
	end      int64
	visit    func(kafka.Record) bool
	budget   *budget
	maxBytes int32
	starved  int // answers in a row the broker had no room for this partition in

	stopped bool
	err     error
}

func (c *cursor) finished() bool { return c.stopped || c.err != nil || c.offset >= c.end }

// feed applies one Fetch answer.
func (c *cursor) feed(f kafka.Fetched) {
	if f.Err != nil {
		c.err = fmt.Errorf("cannot read %s/%d at %d: %w", c.tp.Topic, c.tp.Partition, c.offset, f.Err)
		return
	}
	for _, r := range f.Records {
		if r.Offset < c.offset || r.Offset >= c.end {
			continue
		}
		c.budget.bytes += recordSize(r)
		if c.visit(r) {
			c.stopped = true
			return
		}
	}
	switch {
	case f.Next >= c.end:
		c.budget.offsets += c.end - c.offset
		c.offset = c.end
		return
	}
	s, err := readStep{offset: c.offset, maxBytes: c.maxBytes, starved: c.starved}.next(f)
	if err != nil {
		c.err = fmt.Errorf("cannot read %s/%d: %w (at %d, end %d)", c.tp.Topic, c.tp.Partition, err, c.offset, c.end)
		return
	}
	c.budget.offsets += s.offset - c.offset
	c.offset, c.maxBytes, c.starved = s.offset, s.maxBytes, s.starved
	if c.budget.exceeded() {
		c.err = &ScanLimitError{Limit: c.budget.limit, From: c.budget.from, At: c.offset}
	}
}

func recordSize(r kafka.Record) int64 {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return int64(n)
}

// search is one search: step looks at how its last read ended (nil the
// first time) and returns its next read, or nil when it has its answer.
type search interface {
	step(done *cursor) *cursor
}

// runSearches runs every search to its end, batching their reads as the
// file comment says.
func runSearches(ctx context.Context, searches []search) {
	current := make([]*cursor, len(searches))
	for i, s := range searches {
		current[i] = s.step(nil)
	}
	// settle moves every search past its finished reads.
	settle := func() (active bool) {
		for i := range current {
			for current[i] != nil && current[i].finished() {
				current[i] = searches[i].step(current[i])
			}
			active = active || current[i] != nil
		}
		return active
	}
	type sideTP struct {
		side *scanSide
		tp   kafka.TopicPartition
	}
	type sideBroker struct {
		side   *scanSide
		broker int32
	}
	for settle() {
		busy := make(map[sideTP]bool)
		round := make(map[sideBroker][]int)
		for i, c := range current {
			if c == nil || busy[sideTP{c.side, c.tp}] {
				continue
			}
			busy[sideTP{c.side, c.tp}] = true
			if err := ctx.Err(); err != nil {
				c.err = err
				continue
			}
			p, ok := c.side.l[c.tp]
			switch {
			case !ok:
				c.err = fmt.Errorf("cannot read %s/%d: not in %s metadata", c.tp.Topic, c.tp.Partition, c.side.name)
			case p.Err != nil:
				c.err = fmt.Errorf("cannot read %s/%d: %w", c.tp.Topic, c.tp.Partition, p.Err)
			case p.Leader < 0:
				c.err = fmt.Errorf("cannot read %s/%d: %w", c.tp.Topic, c.tp.Partition, errNoLeader)
			default:
				k := sideBroker{c.side, p.Leader}
				round[k] = append(round[k], i)
			}
		}
		var wg sync.WaitGroup
		for k, idx := range round {
			asks := make([]kafka.FetchAsk, len(idx))
			for j, i := range idx {
				c := current[i]
				asks[j] = kafka.FetchAsk{TP: c.tp, Offset: c.offset, MaxBytes: c.maxBytes}
			}
			wg.Go(func() {
				answers, err := k.side.w.Fetch(ctx, k.broker, bool(k.side.iso), asks)
				for _, i := range idx {
					c := current[i] // in this ask only: no other goroutine touches it
					f, ok := answers[c.tp]
					switch {
					case err != nil:
						c.err = fmt.Errorf("cannot fetch from %s broker %d: %w", k.side.name, k.broker, err)
					case !ok:
						c.err = fmt.Errorf("cannot read %s/%d: broker did not answer for partition", c.tp.Topic, c.tp.Partition)
					default:
						c.feed(f)
					}
				}
			})
		}
		wg.Wait()
	}
}

// newCursor starts a read of [from, end) charged to b.
func newCursor(side *scanSide, tp kafka.TopicPartition, from, end int64, b *budget, visit func(kafka.Record) bool) *cursor {
	return &cursor{side: side, tp: tp, offset: from, end: end, visit: visit, budget: b, maxBytes: fetchPartitionBytes}
}

// sameRecord reports whether two records hold the same key, value, headers
// and (withTime) timestamp: what MM2 copies unchanged (MirrorSourceTask.convertRecord),
// so what a copy shares with its original. A null key or value differs from
// an empty one.
func sameRecord(a, b kafka.Record, withTime bool) bool {
	if (withTime && a.Timestamp != b.Timestamp) || !sameBytes(a.Key, b.Key) || !sameBytes(a.Value, b.Value) || len(a.Headers) != len(b.Headers) {
		return false
	}
	for i := range a.Headers {
		if !sameBytes(a.Headers[i].Key, b.Headers[i].Key) || !sameBytes(a.Headers[i].Value, b.Headers[i].Value) {
			return false
		}
	}
	return true
}

func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

// lastBelow finds the last record of [floor, below) on a partition, reading
// backwards in windows that grow fourfold from firstWindow offsets, so a
// record just below is found in one small read and a long gap (compaction,
// a run of aborted transactions) costs a few reads more. found is nil when
// the range holds no record.
type lastBelow struct {
	side   *scanSide
	tp     kafka.TopicPartition
	floor  int64
	below  int64
	budget *budget
	window int64

	lo    int64
	found *kafka.Record
	err   error
	done  bool
}

const firstWindow = 64

func newLastBelow(side *scanSide, tp kafka.TopicPartition, floor, below int64, b *budget) *lastBelow {
	return &lastBelow{side: side, tp: tp, floor: floor, below: below, budget: b, window: firstWindow, lo: below}
}

func (s *lastBelow) step(done *cursor) *cursor {
	if done != nil && done.err != nil {
		s.err, s.done = done.err, true
		return nil
	}
	if s.found != nil || s.lo <= s.floor {
		s.done = true
		return nil
	}
	hi := s.lo
	s.lo = max(s.floor, hi-s.window)
	s.window *= 4
	return newCursor(s.side, s.tp, s.lo, hi, s.budget, func(r kafka.Record) bool {
		s.found = &r // records come in offset order: the last one wins
		return false
	})
}

// errNotFound is a forward search that reached the end of its range.
var errNotFound = errors.New("not found")
