package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Reading offset ranges of many partitions with plain Fetch requests: one
// per leader per round, all leaders in parallel, rounds until every range
// is read. No consumer group is involved, so nothing is committed anywhere.

const (
	// fetchPartitionBytes is how much one partition may return per round;
	// it doubles for a partition that made no progress (a batch larger than
	// that), up to fetchPartitionMaxBytes.
	fetchPartitionBytes    = 1 << 20
	fetchPartitionMaxBytes = 64 << 20
)

// errNoProgress is a partition that returned nothing before its end even
// at the largest fetch size.
var errNoProgress = errors.New("fetch made no progress before the end offset")

// offsetRange is [from, to) of one partition.
type offsetRange struct{ from, to int64 }

// readRanges reads every range, calling visit (never concurrently) for each
// record in it, in offset order per partition. committedOnly reads as a
// read_committed consumer (aborted transactions skipped; ranges must end at
// or below the last stable offset); otherwise as read_uncommitted. Control
// records are never visited. It returns the partitions that could not be
// read; a broker that failed is also reported in errs.
func readRanges(ctx context.Context, w wire, side string, l leaders, ranges map[topicPartition]offsetRange, committedOnly bool, visit func(topicPartition, record), errs *itemErrors) map[topicPartition]error {
	failed := make(map[topicPartition]error)
	pending := make(map[topicPartition]*fetchAsk)
	for tp, r := range ranges {
		if r.from < r.to {
			pending[tp] = &fetchAsk{tp: tp, offset: r.from, maxBytes: fetchPartitionBytes}
		}
	}
	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			for tp := range pending {
				failed[tp] = err
			}
			break
		}
		roundFailed := make(map[topicPartition]error)
		batches := l.byLeader(sortedKeys(pending), roundFailed)
		// Copy every ask before any answer changes pending.
		round := make(map[int32][]fetchAsk, len(batches))
		for broker, batch := range batches {
			for _, tp := range batch {
				round[broker] = append(round[broker], *pending[tp])
			}
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for broker, asks := range round {
			wg.Go(func() {
				answers, err := w.fetch(ctx, broker, committedOnly, asks)
				if err != nil {
					errs.add(fmt.Sprintf("%s broker %d", side, broker), fmt.Errorf("cannot fetch: %w", err))
				}
				mu.Lock()
				defer mu.Unlock()
				for _, a := range asks {
					f, ok := answers[a.tp]
					switch {
					case err != nil:
						roundFailed[a.tp] = err
					case !ok:
						roundFailed[a.tp] = errors.New("broker did not answer for partition")
					case f.err != nil:
						roundFailed[a.tp] = f.err
					default:
						advance(pending, a, f, ranges[a.tp].to, visit, roundFailed)
					}
				}
			})
		}
		wg.Wait()
		for tp, err := range roundFailed {
			failed[tp] = fmt.Errorf("cannot read: %w", err)
			delete(pending, tp)
		}
	}
	return failed
}

// advance visits the records of one fetched partition below end and moves
// its ask on; a partition that made no progress asks for more bytes.
func advance(pending map[topicPartition]*fetchAsk, a fetchAsk, f fetched, end int64, visit func(topicPartition, record), failed map[topicPartition]error) {
	for _, rec := range f.records {
		if rec.offset >= a.offset && rec.offset < end {
			visit(a.tp, rec)
		}
	}
	ask := pending[a.tp]
	switch {
	case f.next >= end:
		delete(pending, a.tp)
	case f.next > a.offset:
		ask.offset, ask.maxBytes = f.next, fetchPartitionBytes
	case ask.maxBytes < fetchPartitionMaxBytes:
		ask.maxBytes *= 2
	default:
		failed[a.tp] = fmt.Errorf("%w (at %d, end %d)", errNoProgress, a.offset, end)
	}
}

// sortedKeys gives a deterministic request order.
func sortedKeys[V any](m map[topicPartition]V) []topicPartition {
	out := make([]topicPartition, 0, len(m))
	for tp := range m {
		out = append(out, tp)
	}
	sort.Slice(out, func(i, j int) bool { return lessTP(out[i], out[j]) })
	return out
}

func lessTP(a, b topicPartition) bool {
	if a.topic != b.topic {
		return a.topic < b.topic
	}
	return a.partition < b.partition
}
