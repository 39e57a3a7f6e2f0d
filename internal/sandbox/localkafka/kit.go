package localkafka

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
)

// Traffic is what the demo and the sandbox tests do to a cluster as its clients would: create
// topics, write keyed records with headers, commit consumer-group offsets, and read every
// record back to compare both sides of a migration.
type Traffic struct {
	c      *Cluster
	client sarama.Client
	admin  sarama.ClusterAdmin
}

// NewTraffic connects to c as its admin user.
func NewTraffic(c *Cluster) (*Traffic, error) {
	client, err := c.NewClient(c.Admin)
	if err != nil {
		return nil, err
	}
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("cannot make an admin client for %s: %w", c.Name, err)
	}
	return &Traffic{c: c, client: client, admin: admin}, nil
}

// Close releases the connections.
func (t *Traffic) Close() { t.admin.Close() }

// CreateTopic creates a topic with RF 1 and extra configs (e.g. cleanup.policy).
func (t *Traffic) CreateTopic(name string, partitions int32, configs map[string]string) error {
	entries := map[string]*string{}
	for k, v := range configs {
		entries[k] = &v
	}
	err := t.admin.CreateTopic(name, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1, ConfigEntries: entries}, false)
	if err != nil {
		return fmt.Errorf("cannot create topic %s on %s: %w", name, t.c.Name, err)
	}
	return nil
}

// Record is one record as a client sees it.
type Record struct {
	Partition int32
	Offset    int64
	Key       string
	Value     string
	Headers   map[string]string
	Timestamp time.Time
}

// Produce writes n records to topic, spread round-robin over its partitions, each with a
// unique key and two headers, in batches. seq numbers records from start so repeated calls
// never write the same key twice.
func (t *Traffic) Produce(topic string, partitions int32, start, n int) error {
	cfg := t.c.Config(t.c.Admin)
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1
	// Batch up to 500 records, but flush at least every 10 ms: with a message
	// trigger alone, sarama never sends a batch's tail (fewer than 500 records
	// for a broker) and AsyncClose waits for it forever.
	cfg.Producer.Flush.Messages = 500
	cfg.Producer.Flush.Frequency = 10 * time.Millisecond
	producer, err := sarama.NewAsyncProducer([]string{t.c.Bootstrap}, cfg)
	if err != nil {
		return fmt.Errorf("cannot make a producer for %s: %w", t.c.Name, err)
	}
	var failed atomic.Value
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range producer.Successes() {
		}
	}()
	go func() {
		defer wg.Done()
		for e := range producer.Errors() {
			failed.CompareAndSwap(nil, e.Err)
		}
	}()
	for i := start; i < start+n; i++ {
		producer.Input() <- &sarama.ProducerMessage{
			Topic:     topic,
			Partition: int32(i) % partitions,
			Key:       sarama.StringEncoder(fmt.Sprintf("%s-key-%07d", topic, i)),
			Value:     sarama.StringEncoder(fmt.Sprintf("value %d of %s: %s", i, topic, strconv.FormatInt(int64(i)*7919, 36))),
			Headers: []sarama.RecordHeader{
				{Key: []byte("seq"), Value: []byte(strconv.Itoa(i))},
				{Key: []byte("origin"), Value: []byte("sandbox-producer")},
			},
		}
	}
	producer.AsyncClose()
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return fmt.Errorf("cannot produce to %s on %s: %w", topic, t.c.Name, err)
	}
	return nil
}

// ProduceUntil keeps producing batches to topics until ctx ends, and returns how many records
// it wrote; the demo's "producer still writing".
func (t *Traffic) ProduceUntil(ctx context.Context, topics []string, partitions int32, start, batch int, every time.Duration) (int, error) {
	written := 0
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		for _, topic := range topics {
			if err := t.Produce(topic, partitions, start+written, batch); err != nil {
				return written, err
			}
		}
		written += batch
		select {
		case <-ctx.Done():
			return written, nil
		case <-tick.C:
		}
	}
}

// EndOffsets returns each partition's log-end offset.
func (t *Traffic) EndOffsets(topic string) (map[int32]int64, error) {
	if err := t.client.RefreshMetadata(topic); err != nil {
		return nil, fmt.Errorf("cannot refresh metadata of %s on %s: %w", topic, t.c.Name, err)
	}
	parts, err := t.client.Partitions(topic)
	if err != nil {
		return nil, fmt.Errorf("cannot list partitions of %s on %s: %w", topic, t.c.Name, err)
	}
	out := map[int32]int64{}
	for _, p := range parts {
		end, err := t.client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return nil, fmt.Errorf("cannot read the end of %s/%d on %s: %w", topic, p, t.c.Name, err)
		}
		out[p] = end
	}
	return out, nil
}

// Count is the number of records in topic (end - start, summed over partitions).
func (t *Traffic) Count(topic string) (int64, error) {
	ends, err := t.EndOffsets(topic)
	if err != nil {
		return 0, err
	}
	var n int64
	for p, end := range ends {
		start, err := t.client.GetOffset(topic, p, sarama.OffsetOldest)
		if err != nil {
			return 0, fmt.Errorf("cannot read the start of %s/%d on %s: %w", topic, p, t.c.Name, err)
		}
		n += end - start
	}
	return n, nil
}

// ReadAll reads every record of topic, partition by partition, up to the end offsets taken
// when it starts.
func (t *Traffic) ReadAll(ctx context.Context, topic string) (map[int32][]Record, error) {
	ends, err := t.EndOffsets(topic)
	if err != nil {
		return nil, err
	}
	consumer, err := sarama.NewConsumerFromClient(t.client)
	if err != nil {
		return nil, fmt.Errorf("cannot make a consumer for %s: %w", t.c.Name, err)
	}
	defer consumer.Close()
	out := map[int32][]Record{}
	for p, end := range ends {
		if end == 0 {
			continue
		}
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			return nil, fmt.Errorf("cannot consume %s/%d on %s: %w", topic, p, t.c.Name, err)
		}
		for done := false; !done; {
			select {
			case m := <-pc.Messages():
				r := Record{Partition: p, Offset: m.Offset, Key: string(m.Key), Value: string(m.Value),
					Headers: map[string]string{}, Timestamp: m.Timestamp}
				for _, h := range m.Headers {
					r.Headers[string(h.Key)] = string(h.Value)
				}
				out[p] = append(out[p], r)
				done = m.Offset+1 >= end
			case err := <-pc.Errors():
				pc.Close()
				return nil, fmt.Errorf("cannot read %s/%d on %s: %w", topic, p, t.c.Name, err)
			case <-ctx.Done():
				pc.Close()
				return nil, fmt.Errorf("cannot read %s/%d on %s: %w", topic, p, t.c.Name, ctx.Err())
			}
		}
		pc.Close()
	}
	return out, nil
}

// Commit commits offsets for group on topic, as a consumer that has stopped would have.
func (t *Traffic) Commit(group, topic string, offsets map[int32]int64) error {
	om, err := sarama.NewOffsetManagerFromClient(group, t.client)
	if err != nil {
		return fmt.Errorf("cannot manage offsets of %s on %s: %w", group, t.c.Name, err)
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
		pom.MarkOffset(off, "")
		poms = append(poms, pom)
	}
	om.Commit()
	if err := closeAll(); err != nil {
		return fmt.Errorf("cannot commit offsets of %s on %s: %w", group, t.c.Name, err)
	}
	return nil
}

// GroupOffsets returns the committed offsets of group on topic (-1 where none).
func (t *Traffic) GroupOffsets(group, topic string, partitions int32) (map[int32]int64, error) {
	parts := make([]int32, partitions)
	for i := range parts {
		parts[i] = int32(i)
	}
	resp, err := t.admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: parts})
	if err != nil {
		return nil, fmt.Errorf("cannot read offsets of %s on %s: %w", group, t.c.Name, err)
	}
	out := map[int32]int64{}
	for p, b := range resp.Blocks[topic] {
		out[p] = b.Offset
	}
	return out, nil
}

// Snapshot is what a cluster holds that a migration must not change on the source: its
// topics with partition counts, its consumer groups and every partition's end offset.
type Snapshot struct {
	Topics map[string]int32
	Groups []string
	Ends   map[string]map[int32]int64
}

// Snapshot reads the cluster's topics, groups and end offsets.
func (t *Traffic) Snapshot() (Snapshot, error) {
	s := Snapshot{Topics: map[string]int32{}, Ends: map[string]map[int32]int64{}}
	topics, err := t.admin.ListTopics()
	if err != nil {
		return s, fmt.Errorf("cannot list topics on %s: %w", t.c.Name, err)
	}
	for name, d := range topics {
		s.Topics[name] = d.NumPartitions
		if s.Ends[name], err = t.EndOffsets(name); err != nil {
			return s, err
		}
	}
	groups, err := t.admin.ListConsumerGroups()
	if err != nil {
		return s, fmt.Errorf("cannot list groups on %s: %w", t.c.Name, err)
	}
	for g := range groups {
		s.Groups = append(s.Groups, g)
	}
	return s, nil
}
