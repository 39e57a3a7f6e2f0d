package migration

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
)

// EndMove is a partition whose end offset moved during Quiet.
type EndMove struct {
	Topic         string
	Partition     int32
	Before, After int64
}

// quietPolls is how many times Quiet looks during its period, so a
// producer still writing is noticed early.
const quietPolls = 10

// Quiet watches the end offsets of the flow's mirrored source partitions
// for period and returns those that moved: none means no producer wrote to
// them for the whole period, which the producer phase waits for before
// proving anything. Waiting the period is the point, so it returns early
// only when something moved (or ctx ended). One ListOffsets per leader per
// look.
func (p *Pair) Quiet(ctx context.Context, flow mm2.Flow, period time.Duration) ([]EndMove, error) {
	source := p.Source
	if source == nil {
		return nil, errors.New("cannot watch the source: no source cluster")
	}
	return quiet(ctx, source, flow, period)
}

func quiet(ctx context.Context, src wire, flow mm2.Flow, period time.Duration) ([]EndMove, error) {
	m, err := flow.Filter.Compile()
	if err != nil {
		return nil, fmt.Errorf("cannot watch the source: %w", err)
	}
	meta, err := src.Metadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot describe source cluster: %w", err)
	}
	errs := &itemErrors{}
	tps := mirroredPartitions(meta, m, flow, errs)
	source := newSide("source", src, meta, errs)
	look := func() (map[kafka.TopicPartition]int64, error) {
		ends := source.listOffsets(ctx, tps, kafka.OffsetLatest, readUncommitted)
		out := make(map[kafka.TopicPartition]int64, len(ends))
		for _, tp := range tps {
			if err := ends[tp].Err; err != nil {
				return nil, fmt.Errorf("cannot list end offset of %s/%d: %w", tp.Topic, tp.Partition, err)
			}
			out[tp] = ends[tp].Offset
		}
		return out, nil
	}
	if e := errs.sorted(); len(e) > 0 {
		return nil, fmt.Errorf("cannot watch the source: %w", e[0])
	}
	before, err := look()
	if err != nil {
		return nil, err
	}
	deadline := time.NewTimer(period)
	defer deadline.Stop()
	tick := time.NewTicker(max(period/quietPolls, time.Millisecond))
	defer tick.Stop()
	for {
		last := false
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cannot watch the source: %w", ctx.Err())
		case <-deadline.C:
			last = true
		case <-tick.C:
		}
		now, err := look()
		if err != nil {
			return nil, err
		}
		var moved []EndMove
		for _, tp := range tps {
			if now[tp] != before[tp] {
				moved = append(moved, EndMove{Topic: tp.Topic, Partition: tp.Partition, Before: before[tp], After: now[tp]})
			}
		}
		if len(moved) > 0 || last {
			return moved, nil
		}
	}
}
