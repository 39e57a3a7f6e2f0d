package migration

import (
	"context"

	"mirrormaker-k8s/internal/kafka"
)

// Offsets are not records. A transactional producer on the source leaves a
// commit or abort marker after each transaction: it takes an offset, but
// MM2 never copies it (it is not a record a consumer sees), so MM2's last
// replicated offset stays one short of the end forever and offset
// arithmetic would report lag 1 on a partition that is fully mirrored. An
// aborted transaction's records are copied by a read_uncommitted MM2 (the
// default) and skipped by a read_committed one (exactly-once mode).
//
// So when a partition's remaining range is short, Measure reads it and
// counts the records MM2 will still copy. Longer ranges keep the offset
// count, an upper bound that is exact for non-transactional topics and
// that the tail check settles as replication nears the end, which is when
// a cutover gate asks.

// tailCheckMax is the longest remaining range, in offsets, that Measure
// reads to count exactly: enough for the markers of many transactions,
// small enough that the reads stay cheap when a cutover gate polls.
const tailCheckMax = 1000

// settleTails replaces the lag of every partition with a short remaining
// range by the number of records MM2 will still copy from it, reading the
// ranges in batched Fetch requests (one per leader per round). A range
// that cannot be read keeps its offset count: it is still an upper bound,
// so the view stays correct, only less tight.
func settleTails(ctx context.Context, src *side, parts []PartitionLag, iso isolation) {
	ranges := make(map[kafka.TopicPartition]offsetRange)
	index := make(map[kafka.TopicPartition]int)
	for i, p := range parts {
		if p.Err != nil || p.Lag <= 0 || p.Lag > tailCheckMax {
			continue
		}
		tp := kafka.TopicPartition{Topic: p.Topic, Partition: p.Partition}
		ranges[tp] = offsetRange{from: max(p.Committed+1, p.SourceStart), to: p.SourceEnd}
		index[tp] = i
	}
	if len(ranges) == 0 {
		return
	}
	// Failures only leave the bounds in place: they are not errors of the
	// view.
	quiet := *src
	quiet.errs = &itemErrors{}
	undecided := make(map[kafka.TopicPartition]int64)
	if iso == readCommitted {
		// A read_committed MM2 can read only below the last stable offset;
		// what lies beyond (an open transaction) is still to copy, or not.
		tps := kafka.SortedPartitions(ranges)
		stable := quiet.listOffsets(ctx, tps, kafka.OffsetLatest, readCommitted)
		for _, tp := range tps {
			r := ranges[tp]
			lso := stable[tp]
			if lso.Err != nil {
				delete(ranges, tp)
				continue
			}
			to := min(r.to, max(lso.Offset, r.from))
			undecided[tp] = r.to - to
			ranges[tp] = offsetRange{r.from, to}
		}
	}
	count := make(map[kafka.TopicPartition]int64, len(ranges))
	visit := func(tp kafka.TopicPartition, _ kafka.Record) { count[tp]++ }
	failed := quiet.readRanges(ctx, ranges, iso, visit)
	for tp := range ranges {
		if _, ok := failed[tp]; ok {
			continue
		}
		parts[index[tp]].Lag = count[tp] + undecided[tp]
	}
}
