package migration

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
)

// side is one cluster as this package reads it: its name in item errors
// ("source" or "target"), its wire and metadata, the partition leaders found
// there, and where per-item errors go. Every batched read is a method on it,
// so none takes the same five arguments again.
type side struct {
	name string
	w    wire
	meta kafka.Meta
	l    leaders
	errs *itemErrors
}

func newSide(name string, w wire, meta kafka.Meta, errs *itemErrors) *side {
	return &side{name: name, w: w, meta: meta, l: leadersOf(meta), errs: errs}
}

// isolation is what a read sees of transactions: read_uncommitted sees every
// record up to the high watermark; read_committed, as MM2's source consumer
// does, only what lies below the last stable offset, and no aborted record.
type isolation bool

const (
	readUncommitted isolation = false
	readCommitted   isolation = true
)

// isolationOf is how MM2's source consumer reads under flow.
func isolationOf(flow mm2.Flow) isolation { return isolation(flow.ReadCommitted) }

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
func (sd *side) listOffsets(ctx context.Context, tps []kafka.TopicPartition, at int64, iso isolation) map[kafka.TopicPartition]kafka.OffsetAnswer {
	out := make(map[kafka.TopicPartition]kafka.OffsetAnswer, len(tps))
	failed := make(map[kafka.TopicPartition]error)
	answers := kafka.AskBrokers(ctx, sd.l.byLeader(tps, failed), func(ctx context.Context, broker int32, batch []kafka.TopicPartition) (map[kafka.TopicPartition]kafka.OffsetAnswer, error) {
		return sd.w.ListOffsets(ctx, broker, at, bool(iso), batch)
	})
	answers.EachFailed(func(broker int32, err error) {
		sd.errs.add(brokerItem(sd.name, broker), fmt.Errorf("cannot list offsets: %w", err))
	})
	answers.Each(func(tp kafka.TopicPartition, a kafka.Answer[kafka.OffsetAnswer]) {
		switch {
		case a.Err != nil:
			out[tp] = kafka.OffsetAnswer{Offset: -1, Err: fmt.Errorf("cannot list offsets: %w", a.Err)}
		case !a.Answered:
			out[tp] = kafka.OffsetAnswer{Offset: -1, Err: errors.New("broker did not answer for partition")}
		default:
			out[tp] = a.Value
		}
	})
	for tp, err := range failed {
		out[tp] = kafka.OffsetAnswer{Offset: -1, Err: err}
	}
	return out
}

// brokerItem names a broker in an ItemError: "source broker 2".
func brokerItem(side string, broker int32) string { return fmt.Sprintf("%s broker %d", side, broker) }
