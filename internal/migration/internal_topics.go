package migration

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"mirrormaker-k8s/internal/kafka"
)

// Reading MM2's internal topics on the target: every partition from its log
// start to the end taken when the read starts.

// topicRead is what was read of one topic: records per partition in offset
// order, and the partitions that could not be read.
type topicRead struct {
	found   bool
	records map[int32][]kafka.Record
	failed  map[int32]error
	// err is set when the topic itself could not be described.
	err error
}

// readTopics reads topics to their end. The end is the last stable offset,
// so a transaction still open when the read starts is left for the next
// read, and aborted ones are never seen. A missing topic reads as not found,
// which is not an error: MM2 creates its topics when it first runs.
//
// With a book, only what lies past the book's place is read, and the
// records returned are the latest of each key (what a whole read of the
// compacted topics comes to); the book is updated.
func (sd *side) readTopics(ctx context.Context, topics []string, book *Book) map[string]*topicRead {
	out := make(map[string]*topicRead, len(topics))
	var tps []kafka.TopicPartition
	for _, t := range topics {
		r := &topicRead{records: map[int32][]kafka.Record{}, failed: map[int32]error{}}
		out[t] = r
		if err, ok := sd.meta.TopicErrs[t]; ok {
			r.found, r.err = true, err
			sd.errs.add(fmt.Sprintf("%s topic %s", sd.name, t), err)
			continue
		}
		ps, ok := sd.meta.Topics[t]
		if !ok {
			continue
		}
		r.found = true
		for _, p := range ps {
			tps = append(tps, kafka.TopicPartition{Topic: t, Partition: p.ID})
		}
	}
	if len(tps) == 0 {
		return out
	}

	var starts, ends map[kafka.TopicPartition]kafka.OffsetAnswer
	var wg sync.WaitGroup
	wg.Go(func() { starts = sd.listOffsets(ctx, tps, kafka.OffsetEarliest, readCommitted) })
	wg.Go(func() { ends = sd.listOffsets(ctx, tps, kafka.OffsetLatest, readCommitted) })
	wg.Wait()

	ranges := make(map[kafka.TopicPartition]offsetRange, len(tps))
	kept := make(map[kafka.TopicPartition]*BookPartition)
	for _, tp := range tps {
		s, e := starts[tp], ends[tp]
		if err := errors.Join(s.Err, e.Err); err != nil {
			out[tp.Topic].failed[tp.Partition] = err
			continue
		}
		ranges[tp] = offsetRange{s.Offset, e.Offset}
		if book != nil {
			kept[tp] = book.partition(tp, s.Offset, e.Offset)
			ranges[tp] = offsetRange{kept[tp].Next, e.Offset}
		}
	}
	visit := func(tp kafka.TopicPartition, r kafka.Record) {
		if book != nil {
			kept[tp].keep(r)
			return
		}
		out[tp.Topic].records[tp.Partition] = append(out[tp.Topic].records[tp.Partition], r)
	}
	failed := sd.readRanges(ctx, ranges, readCommitted, visit)
	for tp, err := range failed {
		out[tp.Topic].failed[tp.Partition] = err
	}
	for tp, p := range kept {
		if _, bad := failed[tp]; !bad {
			p.Next = ranges[tp].to // past markers and aborted records too
		}
		out[tp.Topic].records[tp.Partition] = p.records()
	}
	for t, r := range out {
		for p, err := range r.failed {
			sd.errs.add(fmt.Sprintf("%s partition %s/%d", sd.name, t, p), err)
		}
	}
	return out
}
