package migration

import (
	"context"
	"errors"
	"fmt"

	"mirrormaker-k8s/internal/kafka"
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
// record in it, in offset order per partition. readCommitted reads as a
// read_committed consumer (aborted transactions skipped; ranges must end at
// or below the last stable offset). Control records are never visited. It
// returns the partitions that could not be read; a broker that failed is
// also reported in the side's errors.
func (sd *side) readRanges(ctx context.Context, ranges map[kafka.TopicPartition]offsetRange, iso isolation, visit func(kafka.TopicPartition, kafka.Record)) map[kafka.TopicPartition]error {
	failed := make(map[kafka.TopicPartition]error)
	starved := make(map[kafka.TopicPartition]int)
	pending := make(map[kafka.TopicPartition]*kafka.FetchAsk)
	for tp, r := range ranges {
		if r.from < r.to {
			pending[tp] = &kafka.FetchAsk{TP: tp, Offset: r.from, MaxBytes: fetchPartitionBytes}
		}
	}
	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			for tp := range pending {
				failed[tp] = err
			}
			break
		}
		roundFailed := make(map[kafka.TopicPartition]error)
		batches := sd.l.byLeader(kafka.SortedPartitions(pending), roundFailed)
		// Copy every ask before any answer changes pending.
		round := make(map[int32][]kafka.FetchAsk, len(batches))
		for broker, batch := range batches {
			for _, tp := range batch {
				round[broker] = append(round[broker], *pending[tp])
			}
		}
		answers := kafka.AskBrokers(ctx, round, func(ctx context.Context, broker int32, asks []kafka.FetchAsk) (map[kafka.FetchAsk]kafka.Fetched, error) {
			return fetchAsked(ctx, sd.w, broker, bool(iso), asks)
		})
		answers.EachFailed(func(broker int32, err error) {
			sd.errs.add(brokerItem(sd.name, broker), fmt.Errorf("cannot fetch: %w", err))
		})
		answers.Each(func(a kafka.FetchAsk, ans kafka.Answer[kafka.Fetched]) {
			switch {
			case ans.Err != nil:
				roundFailed[a.TP] = ans.Err
			case !ans.Answered:
				roundFailed[a.TP] = errors.New("broker did not answer for partition")
			case ans.Value.Err != nil:
				roundFailed[a.TP] = ans.Value.Err
			default:
				advance(pending, starved, a, ans.Value, ranges[a.TP].to, visit, roundFailed)
			}
		})
		for tp, err := range roundFailed {
			failed[tp] = fmt.Errorf("cannot read: %w", err)
			delete(pending, tp)
		}
	}
	return failed
}

// fetchAsked is one Fetch, its answers keyed by the ask that got them.
func fetchAsked(ctx context.Context, w wire, broker int32, committedOnly bool, asks []kafka.FetchAsk) (map[kafka.FetchAsk]kafka.Fetched, error) {
	got, err := w.Fetch(ctx, broker, committedOnly, asks)
	if err != nil {
		return nil, err
	}
	out := make(map[kafka.FetchAsk]kafka.Fetched, len(asks))
	for _, a := range asks {
		if f, ok := got[a.TP]; ok {
			out[a] = f
		}
	}
	return out, nil
}

// maxStarved is how many answers in a row may bring nothing for a partition because the
// response was full of other partitions (fetch.max.bytes) before it counts as no progress. A
// broker fills its response in the order the request lists partitions, and sarama lists them
// in map order, different from one request to the next, so no partition waits long; each of
// those answers carried the others forward, which only finish.
const maxStarved = 1000

// readStep is where one partition's read stands: the offset and room to ask with next, and how
// many answers in a row were starved.
type readStep struct {
	offset   int64
	maxBytes int32
	starved  int
}

// next is the step after answer f, which came from asking at s: on past it; or, when nothing
// came back, again with twice the room (up to fetchPartitionMaxBytes). A broker answers a
// partition with nothing both when its response had no room left for it and when the first
// batch there is larger than the room asked for (Fetch v3 and later send no part of it), and
// the two cannot be told apart: more room costs nothing in the first case (the response's own
// limit still bounds it) and is the only way on in the second, where otherwise only the rounds
// in which the partition comes first in the answer would move it. The error is for a partition
// that got nothing maxStarved times in a row.
func (s readStep) next(f kafka.Fetched) (readStep, error) {
	switch {
	case f.Next > s.offset:
		return readStep{offset: f.Next, maxBytes: fetchPartitionBytes}, nil
	case len(f.Records) > 0:
		return s, errNoProgress // records, all below the offset asked: not a broker's answer
	case s.starved >= maxStarved:
		return s, errNoProgress
	}
	s.starved++
	s.maxBytes = min(2*s.maxBytes, fetchPartitionMaxBytes)
	return s, nil
}

// advance visits the records of one fetched partition below end and moves its ask on.
func advance(pending map[kafka.TopicPartition]*kafka.FetchAsk, starved map[kafka.TopicPartition]int, a kafka.FetchAsk, f kafka.Fetched, end int64, visit func(kafka.TopicPartition, kafka.Record), failed map[kafka.TopicPartition]error) {
	for _, rec := range f.Records {
		if rec.Offset >= a.Offset && rec.Offset < end {
			visit(a.TP, rec)
		}
	}
	if f.Next >= end {
		delete(pending, a.TP)
		delete(starved, a.TP)
		return
	}
	s, err := readStep{offset: a.Offset, maxBytes: a.MaxBytes, starved: starved[a.TP]}.next(f)
	if err != nil {
		failed[a.TP] = fmt.Errorf("%w (at %d, end %d)", err, a.Offset, end)
		return
	}
	pending[a.TP].Offset, pending[a.TP].MaxBytes, starved[a.TP] = s.offset, s.maxBytes, s.starved
}
