package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Reading MM2's internal topics on the target: every partition from its log
// start to the end taken when the read starts, with plain Fetch requests
// (one per leader per round, all leaders in parallel). No consumer group is
// involved, so nothing is committed anywhere.

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

// topicRead is what was read of one topic: records per partition in offset
// order, and the partitions that could not be read.
type topicRead struct {
	found   bool
	records map[int32][]record
	failed  map[int32]error
	// err is set when the topic itself could not be described.
	err error
}

// readTopics reads topics to their end. The end is the last stable offset,
// so a transaction still open when the read starts is left for the next
// read, and aborted ones are never seen. A missing topic reads as not found,
// which is not an error: MM2 creates its topics when it first runs.
func readTopics(ctx context.Context, w wire, side string, meta clusterMeta, l leaders, topics []string, errs *itemErrors) map[string]*topicRead {
	out := make(map[string]*topicRead, len(topics))
	var tps []topicPartition
	for _, t := range topics {
		r := &topicRead{records: map[int32][]record{}, failed: map[int32]error{}}
		out[t] = r
		if err, ok := meta.topicErrs[t]; ok {
			r.found, r.err = true, err
			errs.add(fmt.Sprintf("%s topic %s", side, t), err)
			continue
		}
		ps, ok := meta.topics[t]
		if !ok {
			continue
		}
		r.found = true
		for _, p := range ps {
			tps = append(tps, topicPartition{t, p.id})
		}
	}
	if len(tps) == 0 {
		return out
	}

	var starts, ends map[topicPartition]offsetAnswer
	var wg sync.WaitGroup
	wg.Go(func() { starts = listOffsets(ctx, w, side, l, tps, offsetEarliest, true, errs) })
	wg.Go(func() { ends = listOffsets(ctx, w, side, l, tps, offsetLatest, true, errs) })
	wg.Wait()

	pending := make(map[topicPartition]*fetchAsk)
	end := make(map[topicPartition]int64)
	for _, tp := range tps {
		s, e := starts[tp], ends[tp]
		if err := errors.Join(s.err, e.err); err != nil {
			out[tp.topic].failed[tp.partition] = err
			continue
		}
		if s.offset < e.offset {
			pending[tp] = &fetchAsk{tp: tp, offset: s.offset, maxBytes: fetchPartitionBytes}
			end[tp] = e.offset
		}
	}

	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			for tp := range pending {
				out[tp.topic].failed[tp.partition] = err
			}
			break
		}
		failed := make(map[topicPartition]error)
		batches := l.byLeader(sortedKeys(pending), failed)
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
				answers, err := w.fetch(ctx, broker, asks)
				if err != nil {
					errs.add(fmt.Sprintf("%s broker %d", side, broker), fmt.Errorf("cannot fetch: %w", err))
				}
				mu.Lock()
				defer mu.Unlock()
				for _, a := range asks {
					f, ok := answers[a.tp]
					switch {
					case err != nil:
						failed[a.tp] = err
					case !ok:
						failed[a.tp] = errors.New("broker did not answer for partition")
					case f.err != nil:
						failed[a.tp] = f.err
					default:
						advance(out[a.tp.topic], pending, a, f, end[a.tp], failed)
					}
				}
			})
		}
		wg.Wait()
		for tp, err := range failed {
			out[tp.topic].failed[tp.partition] = fmt.Errorf("cannot read: %w", err)
			delete(pending, tp)
		}
	}
	for t, r := range out {
		for p, err := range r.failed {
			errs.add(fmt.Sprintf("%s partition %s/%d", side, t, p), err)
		}
	}
	return out
}

// advance keeps the records of one fetched partition below end and moves
// its ask on; a partition that made no progress asks for more bytes.
func advance(r *topicRead, pending map[topicPartition]*fetchAsk, a fetchAsk, f fetched, end int64, failed map[topicPartition]error) {
	for _, rec := range f.records {
		if rec.offset >= a.offset && rec.offset < end {
			r.records[a.tp.partition] = append(r.records[a.tp.partition], rec)
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
