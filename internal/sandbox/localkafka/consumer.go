package localkafka

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// GroupConsumer is a real consumer-group member, as an application runs one: it joins its
// group on a cluster, reads its topics read_committed from the group's committed offsets (the
// oldest record where there are none), marks every record it has read, commits as it goes and
// once more when it stops, and keeps what it read, so that the demo and the tests can say
// where it stopped and where its successor on the other cluster resumed.
type GroupConsumer struct {
	Group  string
	group  sarama.ConsumerGroup
	cancel context.CancelFunc
	done   chan error

	mu   sync.Mutex
	read map[string]map[int32][]Record
}

// StartConsumer joins group on c as its admin user and consumes topics until Stop.
func StartConsumer(ctx context.Context, c *Cluster, group string, topics ...string) (*GroupConsumer, error) {
	cfg := c.Config(c.Admin)
	cfg.ClientID = "sandbox-consumer-" + group
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = true
	cfg.Consumer.Offsets.AutoCommit.Interval = 200 * time.Millisecond
	g, err := sarama.NewConsumerGroup([]string{c.Bootstrap}, group, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot join group %s on %s: %w", group, c.Name, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	gc := &GroupConsumer{Group: group, group: g, cancel: cancel, done: make(chan error, 1), read: map[string]map[int32][]Record{}}
	go func() {
		for {
			err := g.Consume(ctx, topics, gc)
			if ctx.Err() != nil {
				gc.done <- nil
				return
			}
			if err != nil {
				gc.done <- fmt.Errorf("group %s on %s: %w", group, c.Name, err)
				return
			}
		}
	}()
	return gc, nil
}

// Setup is part of sarama.ConsumerGroupHandler.
func (gc *GroupConsumer) Setup(sarama.ConsumerGroupSession) error { return nil }

// Cleanup is part of sarama.ConsumerGroupHandler: it commits what was marked before the
// member leaves or rebalances.
func (gc *GroupConsumer) Cleanup(s sarama.ConsumerGroupSession) error {
	s.Commit()
	return nil
}

// ConsumeClaim is part of sarama.ConsumerGroupHandler: it keeps each record, then marks it.
func (gc *GroupConsumer) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for {
		select {
		case m, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			gc.mu.Lock()
			if gc.read[m.Topic] == nil {
				gc.read[m.Topic] = map[int32][]Record{}
			}
			gc.read[m.Topic][m.Partition] = append(gc.read[m.Topic][m.Partition], recordOf(m))
			gc.mu.Unlock()
			s.MarkMessage(m, "")
		case <-s.Context().Done():
			return nil
		}
	}
}

// Read returns the records read so far, per topic and partition, in the order read.
func (gc *GroupConsumer) Read() map[string]map[int32][]Record {
	gc.mu.Lock()
	defer gc.mu.Unlock()
	out := make(map[string]map[int32][]Record, len(gc.read))
	for topic, parts := range gc.read {
		out[topic] = maps.Clone(parts)
		for p, rs := range parts {
			out[topic][p] = slices.Clone(rs)
		}
	}
	return out
}

// Stop ends the member: its last marks are committed and it leaves the group, so the group
// is empty once Stop returns.
func (gc *GroupConsumer) Stop() error {
	gc.cancel()
	err := <-gc.done
	gc.done <- err // Stop may be called again
	return errors.Join(err, gc.group.Close())
}

func recordOf(m *sarama.ConsumerMessage) Record {
	r := Record{Partition: m.Partition, Offset: m.Offset, Key: string(m.Key), Value: string(m.Value),
		Headers: map[string]string{}, Timestamp: m.Timestamp}
	for _, h := range m.Headers {
		r.Headers[string(h.Key)] = string(h.Value)
	}
	return r
}

// ReadCommitted reads topic/partition on c from offset from as a read_committed consumer sees
// it (no transaction markers, no aborted records), until stop returns true for a record read.
func ReadCommitted(ctx context.Context, c *Cluster, topic string, partition int32, from int64, stop func(Record) bool) ([]Record, error) {
	cfg := c.Config(c.Admin)
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	consumer, err := sarama.NewConsumer([]string{c.Bootstrap}, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot make a consumer for %s: %w", c.Name, err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(topic, partition, from)
	if err != nil {
		return nil, fmt.Errorf("cannot consume %s/%d from %d on %s: %w", topic, partition, from, c.Name, err)
	}
	defer pc.Close()
	var out []Record
	for {
		select {
		case m := <-pc.Messages():
			r := recordOf(m)
			out = append(out, r)
			if stop(r) {
				return out, nil
			}
		case err := <-pc.Errors():
			return out, fmt.Errorf("cannot read %s/%d on %s: %w", topic, partition, c.Name, err)
		case <-ctx.Done():
			return out, fmt.Errorf("cannot read %s/%d on %s past offset %d: %w", topic, partition, c.Name, from, ctx.Err())
		}
	}
}
