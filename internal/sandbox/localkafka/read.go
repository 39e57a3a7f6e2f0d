package localkafka

import (
	"context"
	"fmt"

	"github.com/IBM/sarama"
)

// EndOffsets returns each partition's log-end offset.
func (k *Kit) EndOffsets(topic string) (map[int32]int64, error) {
	if err := k.client.RefreshMetadata(topic); err != nil {
		return nil, fmt.Errorf("cannot refresh metadata of %s on %s: %w", topic, k.c.Name, err)
	}
	parts, err := k.client.Partitions(topic)
	if err != nil {
		return nil, fmt.Errorf("cannot list partitions of %s on %s: %w", topic, k.c.Name, err)
	}
	out := map[int32]int64{}
	for _, p := range parts {
		end, err := k.client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return nil, fmt.Errorf("cannot read the end of %s/%d on %s: %w", topic, p, k.c.Name, err)
		}
		out[p] = end
	}
	return out, nil
}

// Count is the number of records in topic (end - start, summed over partitions).
func (k *Kit) Count(topic string) (int64, error) {
	ends, err := k.EndOffsets(topic)
	if err != nil {
		return 0, err
	}
	var n int64
	for p, end := range ends {
		start, err := k.client.GetOffset(topic, p, sarama.OffsetOldest)
		if err != nil {
			return 0, fmt.Errorf("cannot read the start of %s/%d on %s: %w", topic, p, k.c.Name, err)
		}
		n += end - start
	}
	return n, nil
}

// ReadAll reads every record of topic, partition by partition, up to the end offsets taken
// when it starts.
func (k *Kit) ReadAll(ctx context.Context, topic string) (map[int32][]Record, error) {
	ends, err := k.EndOffsets(topic)
	if err != nil {
		return nil, err
	}
	consumer, err := sarama.NewConsumerFromClient(k.client)
	if err != nil {
		return nil, fmt.Errorf("cannot make a consumer for %s: %w", k.c.Name, err)
	}
	defer consumer.Close()
	out := map[int32][]Record{}
	for p, end := range ends {
		if end == 0 {
			continue
		}
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			return nil, fmt.Errorf("cannot consume %s/%d on %s: %w", topic, p, k.c.Name, err)
		}
		for done := false; !done; {
			select {
			case m := <-pc.Messages():
				out[p] = append(out[p], recordOf(m))
				done = m.Offset+1 >= end
			case err := <-pc.Errors():
				pc.Close()
				return nil, fmt.Errorf("cannot read %s/%d on %s: %w", topic, p, k.c.Name, err)
			case <-ctx.Done():
				pc.Close()
				return nil, fmt.Errorf("cannot read %s/%d on %s: %w", topic, p, k.c.Name, ctx.Err())
			}
		}
		pc.Close()
	}
	return out, nil
}

// ReadCommitted reads topic/partition from offset from as a read_committed consumer sees it
// (no transaction markers, no aborted records), until stop returns true for a record read.
func (k *Kit) ReadCommitted(ctx context.Context, topic string, partition int32, from int64, stop func(Record) bool) ([]Record, error) {
	c := k.c
	cfg := c.Config(c.Admin)
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	consumer, err := sarama.NewConsumer(c.Addrs(), cfg)
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

func recordOf(m *sarama.ConsumerMessage) Record {
	r := Record{Partition: m.Partition, Offset: m.Offset, Key: string(m.Key), Value: string(m.Value),
		Headers: map[string]string{}, Timestamp: m.Timestamp}
	for _, h := range m.Headers {
		r.Headers[string(h.Key)] = string(h.Value)
	}
	return r
}

// Snapshot is what a cluster holds that a migration must not change on the source: its
// topics with partition counts, its consumer groups and every partition's end offset.
type Snapshot struct {
	Topics map[string]int32
	Groups []string
	Ends   map[string]map[int32]int64
}

// Snapshot reads the cluster's topics, groups and end offsets.
func (k *Kit) Snapshot() (Snapshot, error) {
	s := Snapshot{Topics: map[string]int32{}, Ends: map[string]map[int32]int64{}}
	topics, err := k.admin.ListTopics()
	if err != nil {
		return s, fmt.Errorf("cannot list topics on %s: %w", k.c.Name, err)
	}
	for name, d := range topics {
		s.Topics[name] = d.NumPartitions
		if s.Ends[name], err = k.EndOffsets(name); err != nil {
			return s, err
		}
	}
	groups, err := k.admin.ListConsumerGroups()
	if err != nil {
		return s, fmt.Errorf("cannot list groups on %s: %w", k.c.Name, err)
	}
	for g := range groups {
		s.Groups = append(s.Groups, g)
	}
	return s, nil
}
