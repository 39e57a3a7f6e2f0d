package migration

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

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
	return kafka.Access{BootstrapServers: c.Addrs(), SecurityProtocol: kafka.SASLPlaintext, Mechanism: kafka.ScramSHA512,
		Username: c.Admin.Username, Password: c.Admin.Password}
}

// kit is what a test needs to shape a real cluster.
// kit is the sandbox's Kit, the one way tests talk to Kafka, with a test's
// manners: a call that fails fails the test.
type kit struct {
	tb testing.TB
	*localkafka.Kit
}

func newKit(tb testing.TB, c *localkafka.Cluster) *kit {
	tb.Helper()
	k, err := localkafka.NewKit(c)
	require.NoError(tb, err)
	tb.Cleanup(func() { k.Close() })
	return &kit{tb: tb, Kit: k}
}

func (k *kit) createTopic(name string, partitions int32, compacted bool) {
	k.tb.Helper()
	var configs map[string]string
	if compacted {
		configs = map[string]string{"cleanup.policy": "compact"}
	}
	require.NoError(k.tb, k.CreateTopic(name, partitions, configs))
}

func (k *kit) waitTopics(topics ...string) {
	k.tb.Helper()
	require.NoError(k.tb, k.WaitTopics(context.Background(), topics...))
}

// send writes key/value pairs to one partition; a nil value is a tombstone.
func (k *kit) send(topic string, partition int32, kvs ...[2][]byte) {
	k.tb.Helper()
	require.NoError(k.tb, k.Send(topic, partition, messages(kvs)...))
}

// sendTxn writes records in one transaction and commits or aborts it (as a
// crashed exactly-once MM2 task would leave them).
func (k *kit) sendTxn(topic string, partition int32, commit bool, kvs ...[2][]byte) {
	k.tb.Helper()
	require.NoError(k.tb, k.SendTxn(topic, partition, commit, messages(kvs)...))
}

func messages(kvs [][2][]byte) []localkafka.Message {
	ms := make([]localkafka.Message, len(kvs))
	for i, r := range kvs {
		ms[i] = localkafka.Message{Key: r[0], Value: r[1]}
	}
	return ms
}

func (k *kit) fill(topic string, partition int32, n int) {
	k.tb.Helper()
	kvs := make([][2][]byte, n)
	for i := range kvs {
		kvs[i] = kv([]byte(fmt.Sprint(i)), []byte("record"))
	}
	k.send(topic, partition, kvs...)
}

// commit sets group's committed offsets exactly.
func (k *kit) commit(group string, offsets map[kafka.TopicPartition]int64) {
	k.tb.Helper()
	byTopic := map[string]map[int32]int64{}
	for tp, off := range offsets {
		if byTopic[tp.Topic] == nil {
			byTopic[tp.Topic] = map[int32]int64{}
		}
		byTopic[tp.Topic][tp.Partition] = off
	}
	for topic, offs := range byTopic {
		require.NoError(k.tb, k.Commit(group, topic, offs))
	}
}

// consumerGroups lists the groups the cluster knows, to prove Measure
// created none.
func (k *kit) consumerGroups() map[string]string {
	k.tb.Helper()
	groups, err := k.Groups()
	require.NoError(k.tb, err)
	return groups
}
