package localkafka

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/IBM/sarama"

	"mirrormaker-k8s/internal/sandbox/internal/poll"
)

// Message is one record written exactly as a test chooses it, to one
// partition: the tests that compare a copy with its source, or a log with
// markers and gaps in chosen places, need every field under their control,
// where Produce numbers its own.
type Message struct {
	Key   []byte // nil writes a null key
	Value []byte // nil writes a tombstone
	// Headers are written in key order.
	Headers map[string]string
	// Timestamp, when set, is the record's create time.
	Timestamp time.Time
}

func (m Message) producerMessage(topic string, partition int32) *sarama.ProducerMessage {
	pm := &sarama.ProducerMessage{Topic: topic, Partition: partition, Timestamp: m.Timestamp}
	if m.Key != nil {
		pm.Key = sarama.ByteEncoder(m.Key)
	}
	if m.Value != nil {
		pm.Value = sarama.ByteEncoder(m.Value)
	}
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		pm.Headers = append(pm.Headers, sarama.RecordHeader{Key: []byte(k), Value: []byte(m.Headers[k])})
	}
	return pm
}

// Send writes ms to one partition, in order, outside any transaction.
func (k *Kit) Send(topic string, partition int32, ms ...Message) error {
	p, err := k.exactProducer()
	if err != nil {
		return err
	}
	pms := make([]*sarama.ProducerMessage, len(ms))
	for i, m := range ms {
		pms[i] = m.producerMessage(topic, partition)
	}
	if err := p.SendMessages(pms); err != nil {
		return fmt.Errorf("cannot write to %s/%d on %s: %w", topic, partition, k.c.Name, err)
	}
	return nil
}

// exactProducer is the kit's producer for Send, made on first use: it writes
// to the partition each message names, with the kit's own producer id.
func (k *Kit) exactProducer() (sarama.SyncProducer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.producer != nil {
		return k.producer, nil
	}
	cfg := k.c.Config(k.c.Admin)
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	// Idempotent, as current clients are by default: the broker then keeps
	// each producer's state, and a compacted log keeps an empty batch for it
	// after the cleaner removes all its records, which readers must step over.
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1
	p, err := sarama.NewSyncProducer(k.c.Addrs(), cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot make a producer for %s: %w", k.c.Name, err)
	}
	k.producer = p
	return p, nil
}

// SendTxn writes ms to one partition in one transaction, then commits or
// aborts it, as an exactly-once producer (or a crashed MM2 task) would
// leave them. Either way a control record follows and takes an offset. The
// broker writes it after EndTxn returns, so SendTxn waits until no
// transaction is open on the partition: the next write cannot take the
// marker's place.
func (k *Kit) SendTxn(topic string, partition int32, commit bool, ms ...Message) error {
	cfg := k.c.Config(k.c.Admin)
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.Idempotent = true
	cfg.Producer.Transaction.ID = "sandbox-kit-txn"
	cfg.Net.MaxOpenRequests = 1
	p, err := sarama.NewSyncProducer(k.c.Addrs(), cfg)
	if err != nil {
		return fmt.Errorf("cannot make a transactional producer for %s: %w", k.c.Name, err)
	}
	defer p.Close()
	if err := p.BeginTxn(); err != nil {
		return fmt.Errorf("cannot begin a transaction on %s: %w", k.c.Name, err)
	}
	for _, m := range ms {
		if _, _, err := p.SendMessage(m.producerMessage(topic, partition)); err != nil {
			return fmt.Errorf("cannot write to %s/%d in a transaction: %w", topic, partition, err)
		}
	}
	end := p.CommitTxn
	if !commit {
		end = p.AbortTxn
	}
	if err := end(); err != nil {
		return fmt.Errorf("cannot end the transaction on %s/%d: %w", topic, partition, err)
	}
	return k.WaitStable(context.Background(), topic, partition)
}

// WaitStable waits until no transaction is open on the partition: its last
// stable offset is its end.
func (k *Kit) WaitStable(ctx context.Context, topic string, partition int32) error {
	return poll.Until(ctx, 30*time.Second, 50*time.Millisecond, func() (bool, error) {
		end, err1 := k.listOffset(topic, partition, sarama.ReadUncommitted)
		stable, err2 := k.listOffset(topic, partition, sarama.ReadCommitted)
		return err1 == nil && err2 == nil && end == stable, nil
	}, fmt.Sprintf("no open transaction on %s/%d", topic, partition))
}

// listOffset is the partition's end as a consumer at isolation sees it.
func (k *Kit) listOffset(topic string, partition int32, isolation sarama.IsolationLevel) (int64, error) {
	leader, err := k.client.Leader(topic, partition)
	if err != nil {
		return 0, err
	}
	req := &sarama.OffsetRequest{Version: 2, IsolationLevel: isolation}
	req.AddBlock(topic, partition, sarama.OffsetNewest, 1)
	resp, err := leader.GetAvailableOffsets(req)
	if err != nil {
		return 0, err
	}
	b := resp.GetBlock(topic, partition)
	if b == nil {
		return 0, fmt.Errorf("no answer for %s/%d", topic, partition)
	}
	if b.Err != sarama.ErrNoError {
		return 0, b.Err
	}
	return b.Offset, nil
}

// WaitTopics waits until every topic has partitions, each with a leader:
// created topics take a moment to be writable.
func (k *Kit) WaitTopics(ctx context.Context, topics ...string) error {
	return poll.Until(ctx, time.Minute, 100*time.Millisecond, func() (bool, error) {
		if err := k.client.RefreshMetadata(topics...); err != nil {
			return false, nil
		}
		for _, t := range topics {
			ps, err := k.client.Partitions(t)
			if err != nil || len(ps) == 0 {
				return false, nil
			}
			for _, p := range ps {
				if l, err := k.client.Leader(t, p); err != nil || l == nil {
					return false, nil
				}
			}
		}
		return true, nil
	}, fmt.Sprintf("topics %v on %s", topics, k.c.Name))
}

// Groups is every consumer group the cluster knows, with its protocol type.
func (k *Kit) Groups() (map[string]string, error) {
	groups, err := k.admin.ListConsumerGroups()
	if err != nil {
		return nil, fmt.Errorf("cannot list groups on %s: %w", k.c.Name, err)
	}
	return groups, nil
}

// WaitGroupStable waits until group is Stable with members members, e.g.
// after StartConsumer: a test that needs a live group must not race its join.
func (k *Kit) WaitGroupStable(ctx context.Context, group string, members int) error {
	return poll.Until(ctx, time.Minute, 100*time.Millisecond, func() (bool, error) {
		ds, err := k.admin.DescribeConsumerGroups([]string{group})
		return err == nil && len(ds) == 1 && ds[0].State == "Stable" && len(ds[0].Members) == members, nil
	}, fmt.Sprintf("group %s stable with %d members on %s", group, members, k.c.Name))
}

// DeleteRecords moves the log start of each partition up to the given
// offset, as retention would: tests of a source whose oldest records are
// gone need it.
func (k *Kit) DeleteRecords(topic string, before map[int32]int64) error {
	if err := k.admin.DeleteRecords(topic, before); err != nil {
		return fmt.Errorf("cannot delete records of %s on %s: %w", topic, k.c.Name, err)
	}
	return nil
}

// TopicBytes is the size of topic's logs on every broker, as DescribeLogDirs
// reports it: what a migration of it has to copy.
func (k *Kit) TopicBytes(topic string) (int64, error) {
	var ids []int32
	for _, b := range k.client.Brokers() {
		ids = append(ids, b.ID())
	}
	dirs, err := k.admin.DescribeLogDirs(ids)
	if err != nil {
		return 0, fmt.Errorf("cannot describe log dirs on %s: %w", k.c.Name, err)
	}
	var total int64
	for _, ds := range dirs {
		for _, d := range ds {
			for _, t := range d.Topics {
				if t.Topic != topic {
					continue
				}
				for _, p := range t.Partitions {
					total += p.Size
				}
			}
		}
	}
	return total, nil
}
