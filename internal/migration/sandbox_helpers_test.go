package migration

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// Helpers for tests against a real broker: one sandbox Kafka plays both
// source and target, and the tests write MM2's internal records themselves,
// so every figure Measure returns is known in advance.

// requireKafka starts a sandbox cluster for tb, skipping when no Kafka is
// installed unless $MM_REQUIRE_SANDBOX is set.
func requireKafka(tb testing.TB, name string, props map[string]string) *localkafka.Cluster {
	tb.Helper()
	if testing.Short() && os.Getenv("MM_REQUIRE_SANDBOX") == "" {
		tb.Skip("skipping a test on a real broker in -short mode")
	}
	d, err := localkafka.FindKafkaDist()
	if err != nil {
		if os.Getenv("MM_REQUIRE_SANDBOX") != "" {
			tb.Fatalf("sandbox required: %v", err)
		}
		tb.Skipf("skipping: no Kafka for the sandbox: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := localkafka.StartCluster(ctx, d, localkafka.ClusterOptions{Name: name, Dir: tb.TempDir(), ServerProperties: props})
	require.NoError(tb, err)
	tb.Cleanup(func() {
		if err := c.Stop(); err != nil {
			tb.Errorf("cannot stop %s: %v", name, err)
		}
	})
	return c
}

func adminAccess(c *localkafka.Cluster) kafka.Access {
	return kafka.Access{BootstrapServers: []string{c.Bootstrap}, SecurityProtocol: kafka.SASLPlaintext, Mechanism: kafka.ScramSHA512,
		Username: c.Admin.Username, Password: c.Admin.Password}
}

// kit is what a test needs to shape a real cluster.
type kit struct {
	tb       testing.TB
	cluster  *localkafka.Cluster
	client   sarama.Client
	admin    sarama.ClusterAdmin
	producer sarama.SyncProducer
}

func newKit(tb testing.TB, c *localkafka.Cluster) *kit {
	tb.Helper()
	client, err := c.NewClient(c.Admin)
	require.NoError(tb, err)
	admin, err := sarama.NewClusterAdminFromClient(client)
	require.NoError(tb, err)
	cfg := c.Config(c.Admin)
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	pc, err := sarama.NewClient([]string{c.Bootstrap}, cfg)
	require.NoError(tb, err)
	producer, err := sarama.NewSyncProducerFromClient(pc)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		producer.Close()
		pc.Close()
		admin.Close()
	})
	return &kit{tb: tb, cluster: c, client: client, admin: admin, producer: producer}
}

func (k *kit) createTopic(name string, partitions int32, compacted bool) {
	k.tb.Helper()
	detail := &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}
	if compacted {
		policy := "compact"
		detail.ConfigEntries = map[string]*string{"cleanup.policy": &policy}
	}
	require.NoError(k.tb, k.admin.CreateTopic(name, detail, false))
}

// waitTopics polls metadata until every partition of topics has a leader:
// CreateTopics returns before the broker has loaded them.
func (k *kit) waitTopics(topics ...string) {
	k.tb.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := k.client.RefreshMetadata(topics...)
		ready := err == nil
		for _, t := range topics {
			if !ready {
				break
			}
			ps, err := k.client.Partitions(t)
			ready = err == nil && len(ps) > 0
			for _, p := range ps {
				if l, err := k.client.Leader(t, p); err != nil || l == nil {
					ready = false
				}
			}
		}
		if ready {
			return
		}
		if time.Now().After(deadline) {
			k.tb.Fatalf("topics %v not ready in time (last error: %v)", topics, err)
		}
		<-tick.C
	}
}

// send writes records to one partition; a nil value is a tombstone.
func (k *kit) send(topic string, partition int32, kvs ...[2][]byte) {
	k.tb.Helper()
	msgs := make([]*sarama.ProducerMessage, len(kvs))
	for i, r := range kvs {
		m := &sarama.ProducerMessage{Topic: topic, Partition: partition, Key: sarama.ByteEncoder(r[0])}
		if r[1] != nil {
			m.Value = sarama.ByteEncoder(r[1])
		}
		msgs[i] = m
	}
	require.NoError(k.tb, k.producer.SendMessages(msgs))
}

// fill writes n small records to a partition.
func (k *kit) fill(topic string, partition int32, n int) {
	k.tb.Helper()
	kvs := make([][2][]byte, n)
	for i := range kvs {
		kvs[i] = kv([]byte(fmt.Sprint(i)), []byte("record"))
	}
	k.send(topic, partition, kvs...)
}

// commit commits group offsets the way a stopped consumer's last commit
// does (no member, generation -1), in one request to the coordinator.
func (k *kit) commit(group string, offsets map[kafka.TopicPartition]int64) {
	k.tb.Helper()
	coordinator, err := k.client.Coordinator(group)
	require.NoError(k.tb, err)
	req := &sarama.OffsetCommitRequest{Version: 2, ConsumerGroup: group, ConsumerGroupGeneration: -1,
		RetentionTime: -1}
	for tp, off := range offsets {
		req.AddBlock(tp.Topic, tp.Partition, off, 0, "")
	}
	resp, err := coordinator.CommitOffset(req)
	require.NoError(k.tb, err)
	for t, ps := range resp.Errors {
		for p, kerr := range ps {
			require.ErrorIs(k.tb, kerr, sarama.ErrNoError, "commit %s %s/%d", group, t, p)
		}
	}
}

// consumerGroups lists the groups the cluster knows, to prove Measure
// created none.
func (k *kit) consumerGroups() map[string]string {
	k.tb.Helper()
	groups, err := k.admin.ListConsumerGroups()
	require.NoError(k.tb, err)
	return groups
}
