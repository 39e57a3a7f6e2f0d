package localkafka

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGivenThreeNodesWhenEachRestartsUnderLoadThenNoAcknowledgedRecordIsLost
// is the replicated cluster issue 11's broker-restart scenario runs on: three
// KRaft nodes, topics with three replicas and min.insync.replicas 2, and a
// rolling restart (controlled shutdowns, then a crash) while a producer
// writes. Every record acknowledged is there exactly once afterwards.
func TestGivenThreeNodesWhenEachRestartsUnderLoadThenNoAcknowledgedRecordIsLost(t *testing.T) {
	d := requireKafkaDist(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	begin := time.Now()
	c, err := StartCluster(ctx, d, ClusterOptions{Name: "rolled", Dir: t.TempDir(), Nodes: 3})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Stop()) })
	t.Logf("3 nodes ready at %s in %s", c.Bootstrap, time.Since(begin).Round(time.Millisecond))
	require.Len(t, c.Addrs(), 3)

	k, err := NewKit(c)
	require.NoError(t, err)
	defer k.Close()
	const topic = "rolled"
	require.NoError(t, k.CreateTopic(topic, 6, nil))
	metas, err := k.admin.DescribeTopics([]string{topic})
	require.NoError(t, err)
	for _, p := range metas[0].Partitions {
		assert.Len(t, p.Replicas, 3, "partition %d", p.ID)
	}
	// The broker asked may learn of the topic a moment after the controller.
	var entries []sarama.ConfigEntry
	require.Eventually(t, func() bool {
		entries, err = k.admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic,
			ConfigNames: []string{"min.insync.replicas"}})
		return err == nil
	}, 10*time.Second, 100*time.Millisecond, "describe %s's configs: %v", topic, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "2", entries[0].Value, "min.insync.replicas")

	produced := make(chan error, 1)
	pctx, stopProducing := context.WithCancel(ctx)
	go func() {
		for pctx.Err() == nil {
			if err := k.Produce(topic, 60); err != nil {
				produced <- err
				return
			}
		}
		produced <- nil
	}()
	for _, step := range []struct {
		node int
		sig  syscall.Signal
	}{{1, syscall.SIGTERM}, {2, syscall.SIGTERM}, {3, syscall.SIGTERM}, {2, syscall.SIGKILL}} {
		before := k.Produced(topic)
		stepBegin := time.Now()
		require.NoError(t, c.RestartNode(ctx, step.node, step.sig))
		t.Logf("node %d restarted (%s) in %s, %d records written meanwhile", step.node, step.sig,
			time.Since(stepBegin).Round(time.Millisecond), k.Produced(topic)-before)
	}
	stopProducing()
	require.NoError(t, <-produced, "the producer gave up during the restarts")
	require.NoError(t, c.WaitInSync(ctx))

	n, err := k.Count(topic)
	require.NoError(t, err)
	assert.EqualValues(t, k.Produced(topic), n, "records on the cluster against records acknowledged")
	ends, err := k.EndOffsets(topic)
	require.NoError(t, err)
	assert.Equal(t, k.ExpectedEnds(topic), ends, "an idempotent producer writes each record once")
}
