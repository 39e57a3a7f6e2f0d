package migration

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"mirrormaker-k8s/internal/kafka"
)

// errNoLeader marks a partition that has no leader to ask.
var errNoLeader = errors.New("partition has no leader")

// itemErrors collects ItemErrors from concurrent requests.
type itemErrors struct {
	mu   sync.Mutex
	list []ItemError
}

func (e *itemErrors) add(item string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ItemError{Item: item, Err: err})
}

// leaders indexes a Metadata answer by partition.
type leaders map[kafka.TopicPartition]kafka.PartitionMeta

func leadersOf(meta kafka.Meta) leaders {
	l := make(leaders)
	for t, ps := range meta.Topics {
		for _, p := range ps {
			l[kafka.TopicPartition{Topic: t, Partition: p.ID}] = p
		}
	}
	return l
}

// byLeader groups partitions by leader broker; partitions without a leader
// are answered at once with their error.
func (l leaders) byLeader(tps []kafka.TopicPartition, out map[kafka.TopicPartition]error) map[int32][]kafka.TopicPartition {
	groups := make(map[int32][]kafka.TopicPartition)
	for _, tp := range tps {
		p, ok := l[tp]
		switch {
		case !ok:
			out[tp] = errors.New("partition not in metadata")
		case p.Err != nil:
			out[tp] = p.Err
		case p.Leader < 0:
			out[tp] = errNoLeader
		default:
			groups[p.Leader] = append(groups[p.Leader], tp)
		}
	}
	return groups
}

// listOffsets asks each leader once, all leaders in parallel, for the
// offsets of its partitions in tps. A broker that cannot be asked is
// reported once, as "<side> broker N", and its partitions answered with
// that error.
func listOffsets(ctx context.Context, w wire, side string, l leaders, tps []kafka.TopicPartition, at int64, committedOnly bool, errs *itemErrors) map[kafka.TopicPartition]kafka.OffsetAnswer {
	out := make(map[kafka.TopicPartition]kafka.OffsetAnswer, len(tps))
	failed := make(map[kafka.TopicPartition]error)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for broker, batch := range l.byLeader(tps, failed) {
		wg.Go(func() {
			answers, err := w.ListOffsets(ctx, broker, at, committedOnly, batch)
			if err != nil {
				err = fmt.Errorf("cannot list offsets: %w", err)
				errs.add(fmt.Sprintf("%s broker %d", side, broker), err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, tp := range batch {
				a, ok := answers[tp]
				switch {
				case err != nil:
					a = kafka.OffsetAnswer{Offset: -1, Err: err}
				case !ok:
					a = kafka.OffsetAnswer{Offset: -1, Err: errors.New("broker did not answer for partition")}
				}
				out[tp] = a
			}
		})
	}
	wg.Wait()
	for tp, err := range failed {
		out[tp] = kafka.OffsetAnswer{Offset: -1, Err: err}
	}
	return out
}
