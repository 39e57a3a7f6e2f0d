package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Reading MM2's internal topics on the target: every partition from its log
// start to the end taken when the read starts.

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

	ranges := make(map[topicPartition]offsetRange, len(tps))
	for _, tp := range tps {
		s, e := starts[tp], ends[tp]
		if err := errors.Join(s.err, e.err); err != nil {
			out[tp.topic].failed[tp.partition] = err
			continue
		}
		ranges[tp] = offsetRange{s.offset, e.offset}
	}
	visit := func(tp topicPartition, r record) {
		out[tp.topic].records[tp.partition] = append(out[tp.topic].records[tp.partition], r)
	}
	for tp, err := range readRanges(ctx, w, side, l, ranges, true, visit, errs) {
		out[tp.topic].failed[tp.partition] = err
	}
	for t, r := range out {
		for p, err := range r.failed {
			errs.add(fmt.Sprintf("%s partition %s/%d", side, t, p), err)
		}
	}
	return out
}
