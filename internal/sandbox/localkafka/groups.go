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

// Commit commits offsets for group on topic, as a consumer that has stopped would have:
// exactly these, whether above or below what the group had.
func (k *Kit) Commit(group, topic string, offsets map[int32]int64) error {
	om, err := sarama.NewOffsetManagerFromClient(group, k.client)
	if err != nil {
		return fmt.Errorf("cannot manage offsets of %s on %s: %w", group, k.c.Name, err)
	}
	var poms []sarama.PartitionOffsetManager
	closeAll := func() error {
		for _, pom := range poms {
			pom.AsyncClose()
			for range pom.Errors() {
			}
		}
		return om.Close()
	}
	for p, off := range offsets {
		pom, err := om.ManagePartition(topic, p)
		if err != nil {
			closeAll()
			return fmt.Errorf("cannot manage %s/%d for %s: %w", topic, p, group, err)
		}
		// Mark moves the offset only forward and Reset only back: between them
		// the group ends exactly at off, wherever it was.
		pom.MarkOffset(off, "")
		pom.ResetOffset(off, "")
		poms = append(poms, pom)
	}
	om.Commit()
	if err := closeAll(); err != nil {
		return fmt.Errorf("cannot commit offsets of %s on %s: %w", group, k.c.Name, err)
	}
	return nil
}

// GroupOffsets returns the committed offsets of group on topic (-1 where none).
func (k *Kit) GroupOffsets(group, topic string, partitions int32) (map[int32]int64, error) {
	parts := make([]int32, partitions)
	for i := range parts {
		parts[i] = int32(i)
	}
	resp, err := k.admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: parts})
	if err != nil {
		return nil, fmt.Errorf("cannot read offsets of %s on %s: %w", group, k.c.Name, err)
	}
	out := map[int32]int64{}
	for p, b := range resp.Blocks[topic] {
		out[p] = b.Offset
	}
	return out, nil
}

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

// StartConsumer joins group as the cluster's admin user and consumes topics until Stop.
func (k *Kit) StartConsumer(ctx context.Context, group string, topics ...string) (*GroupConsumer, error) {
	c := k.c
	cfg := c.Config(c.Admin)
	cfg.ClientID = "sandbox-consumer-" + group
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = true
	cfg.Consumer.Offsets.AutoCommit.Interval = 200 * time.Millisecond
	g, err := sarama.NewConsumerGroup(c.Addrs(), group, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot join group %s on %s: %w", group, c.Name, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	gc := &GroupConsumer{Group: group, group: g, cancel: cancel, done: make(chan error, 1), read: map[string]map[int32][]Record{}}
	go func() {
		for {
			err := g.Consume(ctx, topics, groupHandler{gc})
			if ctx.Err() != nil {
				gc.done <- nil
				return
			}
			if err != nil {
				gc.done <- fmt.Errorf("cannot consume as group %s on %s: %w", group, c.Name, err)
				return
			}
		}
	}()
	return gc, nil
}

// groupHandler is the GroupConsumer's sarama.ConsumerGroupHandler, kept out
// of its API: callers read records and stop it, sarama drives the sessions.
type groupHandler struct{ gc *GroupConsumer }

func (groupHandler) Setup(sarama.ConsumerGroupSession) error { return nil }

// Cleanup commits what was marked before the member leaves or rebalances.
func (groupHandler) Cleanup(s sarama.ConsumerGroupSession) error {
	s.Commit()
	return nil
}

// ConsumeClaim keeps each record, then marks it.
func (h groupHandler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	gc := h.gc
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
