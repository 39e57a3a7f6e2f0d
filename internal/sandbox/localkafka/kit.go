package localkafka

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// Kit is what the demo and the sandbox tests do to one cluster as its
// applications would: create topics, write numbered keyed records with
// headers, read them back (all of a topic, or read_committed from an
// offset), commit and read consumer-group offsets, run a real group member,
// and snapshot what the cluster holds. It is the one way the sandbox talks to
// Kafka from tests, so that both sides of a migration are written and read
// alike. Its connections are the cluster admin's.
//
// A Kit numbers the records it writes per topic, from 0, so that repeated
// writes never repeat a key and a test can say which records a partition
// must hold (ExpectedEnds). Methods are safe for concurrent use.
type Kit struct {
	c      *Cluster
	client sarama.Client
	admin  sarama.ClusterAdmin

	mu       sync.Mutex
	producer sarama.SyncProducer // Send's, made on first use
	produced map[string]int      // records written per topic, numbered from 0
	parts    map[string]int32    // partitions per topic written or created
}

// NewKit connects to c as its admin user.
func NewKit(c *Cluster) (*Kit, error) {
	client, err := c.NewClient(c.Admin)
	if err != nil {
		return nil, err
	}
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("cannot make an admin client for %s: %w", c.Name, err)
	}
	return &Kit{c: c, client: client, admin: admin, produced: map[string]int{}, parts: map[string]int32{}}, nil
}

// Close releases the connections.
func (k *Kit) Close() error {
	k.mu.Lock()
	p := k.producer
	k.mu.Unlock()
	if p != nil {
		p.Close()
	}
	return k.admin.Close()
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

// CreateTopic creates a topic replicated as the cluster's default (one
// replica per node, at most 3) with extra configs (e.g.
// cleanup.policy), remembers its partitions for Produce, and returns once
// every partition has a leader.
func (k *Kit) CreateTopic(name string, partitions int32, configs map[string]string) error {
	entries := map[string]*string{}
	for key, v := range configs {
		entries[key] = &v
	}
	err := k.admin.CreateTopic(name, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: k.c.replicas(), ConfigEntries: entries}, false)
	if err != nil {
		return fmt.Errorf("cannot create topic %s on %s: %w", name, k.c.Name, err)
	}
	k.mu.Lock()
	k.parts[name] = partitions
	k.mu.Unlock()
	// Ready when it returns: a producer's first write to a topic whose leaders are not yet
	// elected is retried, which a test should not depend on.
	return k.WaitTopics(context.Background(), name)
}

// Partitions is topic's partition count: as this kit created or wrote it,
// else as the cluster's metadata says.
func (k *Kit) Partitions(topic string) (int32, error) {
	k.mu.Lock()
	n, ok := k.parts[topic]
	k.mu.Unlock()
	if ok {
		return n, nil
	}
	if err := k.client.RefreshMetadata(topic); err != nil {
		return 0, fmt.Errorf("cannot refresh metadata of %s on %s: %w", topic, k.c.Name, err)
	}
	ps, err := k.client.Partitions(topic)
	if err != nil {
		return 0, fmt.Errorf("cannot list partitions of %s on %s: %w", topic, k.c.Name, err)
	}
	k.mu.Lock()
	k.parts[topic] = int32(len(ps))
	k.mu.Unlock()
	return int32(len(ps)), nil
}
