package localkafka

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/IBM/sarama"
)

// Produce writes the next n numbered records to topic, record i to partition
// i % partitions, each with a unique key ("<topic>-key-<i>") and two headers
// (seq=i, origin). Safe to call for several topics at once; the numbers are
// taken before writing, so a failed call leaves a gap rather than a repeat.
func (k *Kit) Produce(topic string, n int) error {
	parts, err := k.Partitions(topic)
	if err != nil {
		return err
	}
	k.mu.Lock()
	start := k.produced[topic]
	k.produced[topic] += n
	k.mu.Unlock()
	return k.produceRange(topic, parts, start, n)
}

// Produced is how many records this kit has written to topic.
func (k *Kit) Produced(topic string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.produced[topic]
}

// ExpectedEnds is each partition's end offset if topic holds exactly the
// records this kit wrote: Produce spreads record i over partition
// i % partitions.
func (k *Kit) ExpectedEnds(topic string) map[int32]int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	ends := map[int32]int64{}
	n, parts := int64(k.produced[topic]), k.parts[topic]
	for p := range parts {
		ends[p] = n / int64(parts)
		if int64(p) < n%int64(parts) {
			ends[p]++
		}
	}
	return ends
}

// ProduceUntil writes batch more records to each of topics every interval
// until ctx ends, and returns how many it wrote per topic: the demo's
// "production keeps running".
func (k *Kit) ProduceUntil(ctx context.Context, topics []string, batch int, every time.Duration) (int, error) {
	written := 0
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		for _, topic := range topics {
			if err := k.Produce(topic, batch); err != nil {
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

// produceRange writes records start..start+n-1 of topic with an idempotent
// producer, in batches.
func (k *Kit) produceRange(topic string, partitions int32, start, n int) error {
	cfg := k.c.Config(k.c.Admin)
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1
	// Batch up to 500 records, but flush at least every 10 ms: with a message
	// trigger alone, sarama never sends a batch's tail (fewer than 500 records
	// for a broker).
	cfg.Producer.Flush.Messages = 500
	cfg.Producer.Flush.Frequency = 10 * time.Millisecond
	// A sync producer: it returns only once every record is acknowledged or has failed, retries
	// included. An async one closed right after the last send refuses the retries it still owes
	// ("message received by producer in process of shutting down").
	producer, err := sarama.NewSyncProducer(k.c.Addrs(), cfg)
	if err != nil {
		return fmt.Errorf("cannot make a producer for %s: %w", k.c.Name, err)
	}
	defer producer.Close()
	msgs := make([]*sarama.ProducerMessage, 0, n)
	for i := start; i < start+n; i++ {
		msgs = append(msgs, numberedRecord(topic, partitions, i))
	}
	if err := producer.SendMessages(msgs); err != nil {
		return fmt.Errorf("cannot produce to %s on %s: %w", topic, k.c.Name, err)
	}
	return nil
}

// numberedRecord is record i of topic, as Produce writes it.
func numberedRecord(topic string, partitions int32, i int) *sarama.ProducerMessage {
	return &sarama.ProducerMessage{
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
