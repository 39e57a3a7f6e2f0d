package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
type leaders map[topicPartition]partitionMeta

func leadersOf(meta clusterMeta) leaders {
	l := make(leaders)
	for t, ps := range meta.topics {
		for _, p := range ps {
			l[topicPartition{t, p.id}] = p
		}
	}
	return l
}

// byLeader groups partitions by leader broker; partitions without a leader
// are answered at once with their error.
func (l leaders) byLeader(tps []topicPartition, out map[topicPartition]error) map[int32][]topicPartition {
	groups := make(map[int32][]topicPartition)
	for _, tp := range tps {
		p, ok := l[tp]
		switch {
		case !ok:
			out[tp] = errors.New("partition not in metadata")
		case p.err != nil:
			out[tp] = p.err
		case p.leader < 0:
			out[tp] = errNoLeader
		default:
			groups[p.leader] = append(groups[p.leader], tp)
		}
	}
	return groups
}

// listOffsets asks each leader once, all leaders in parallel, for the
// offsets of its partitions in tps. A broker that cannot be asked is
// reported once, as "<side> broker N", and its partitions answered with
// that error.
func listOffsets(ctx context.Context, w wire, side string, l leaders, tps []topicPartition, at int64, committedOnly bool, errs *itemErrors) map[topicPartition]offsetAnswer {
	out := make(map[topicPartition]offsetAnswer, len(tps))
	failed := make(map[topicPartition]error)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for broker, batch := range l.byLeader(tps, failed) {
		wg.Go(func() {
			answers, err := w.listOffsets(ctx, broker, at, committedOnly, batch)
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
					a = offsetAnswer{offset: -1, err: err}
				case !ok:
					a = offsetAnswer{offset: -1, err: errors.New("broker did not answer for partition")}
				}
				out[tp] = a
			}
		})
	}
	wg.Wait()
	for tp, err := range failed {
		out[tp] = offsetAnswer{offset: -1, err: err}
	}
	return out
}
