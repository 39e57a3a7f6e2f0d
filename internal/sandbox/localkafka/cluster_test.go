package localkafka

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/testenv"
)

// requireKafkaDist returns the installed Kafka, skipping the test when there
// is none, unless $MM_REQUIRE_SANDBOX is set (CI), where missing is a failure.
func requireKafkaDist(t *testing.T) KafkaDist {
	t.Helper()
	testenv.SkipShort(t)
	d, err := FindKafkaDist()
	if err != nil {
		testenv.Unavailable(t, "no Kafka for the sandbox: %v", err)
	}
	return d
}

// startKafkaForTest starts a cluster in a temp dir and stops it when the test
// ends, pass or fail.
func startKafkaForTest(t *testing.T, name string) *Cluster {
	t.Helper()
	d := requireKafkaDist(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	begin := time.Now()
	c, err := StartCluster(ctx, d, ClusterOptions{Name: name, Dir: t.TempDir()})
	require.NoError(t, err)
	t.Logf("Kafka %s cluster %s ready at %s in %s", d.Version, name, c.Bootstrap, time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("cannot stop %s: %v", name, err)
		}
	})
	return c
}

// hostilePassword has everything that breaks naive quoting in properties
// files, JAAS strings, shells and SCRAM's own attribute syntax.
const hostilePassword = "p\"a's\\s=w:o#r${d} ,n=e\u00e9\u2603 \u00a0tab\there\nnewline!"

func TestGivenKafkaDistWhenClusterStartsThenSCRAMClientsProduceConsumeAndStop(t *testing.T) {
	c := startKafkaForTest(t, "old")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	admin, err := c.NewAdmin(c.Admin)
	require.NoError(t, err)
	defer admin.Close()
	require.NoError(t, admin.CreateTopic("orders", &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false))

	t.Run("produce and consume a keyed record with headers", func(t *testing.T) {
		client, err := c.NewClient(c.Admin)
		require.NoError(t, err)
		defer client.Close()
		producer, err := sarama.NewSyncProducerFromClient(client)
		require.NoError(t, err)
		defer producer.Close()
		headers := []sarama.RecordHeader{{Key: []byte("trace"), Value: []byte("abc-123")}, {Key: []byte("empty"), Value: []byte{}}}
		partition, offset, err := producer.SendMessage(&sarama.ProducerMessage{
			Topic: "orders", Key: sarama.StringEncoder("customer-7"), Value: sarama.StringEncoder("order #1"), Headers: headers,
		})
		require.NoError(t, err)

		consumer, err := sarama.NewConsumerFromClient(client)
		require.NoError(t, err)
		defer consumer.Close()
		pc, err := consumer.ConsumePartition("orders", partition, offset)
		require.NoError(t, err)
		defer pc.Close()
		select {
		case msg := <-pc.Messages():
			assert.Equal(t, "customer-7", string(msg.Key))
			assert.Equal(t, "order #1", string(msg.Value))
			require.Len(t, msg.Headers, 2)
			assert.Equal(t, "trace", string(msg.Headers[0].Key))
			assert.Equal(t, "abc-123", string(msg.Headers[0].Value))
			assert.Equal(t, "empty", string(msg.Headers[1].Key))
		case err := <-pc.Errors():
			t.Fatalf("cannot consume: %v", err)
		case <-ctx.Done():
			t.Fatal("no record consumed in time")
		}
	})

	t.Run("a user with a hostile password authenticates, a wrong one does not", func(t *testing.T) {
		require.NoError(t, c.CreateUser(ctx, "relation-7", hostilePassword))
		user := Credentials{Username: "relation-7", Password: hostilePassword}
		a, err := c.NewAdmin(user)
		require.NoError(t, err)
		defer a.Close()
		topics, err := a.ListTopics()
		require.NoError(t, err)
		assert.Contains(t, topics, "orders")

		_, err = c.NewClient(Credentials{Username: "relation-7", Password: strings.TrimSuffix(hostilePassword, "!")})
		require.Error(t, err)
		assert.True(t, errors.Is(err, sarama.ErrSASLAuthenticationFailed) || strings.Contains(err.Error(), "uthentication"),
			"want an authentication failure, got %v", err)
	})

	t.Run("the admin password is in no file but server.properties, which is private", func(t *testing.T) {
		st, err := os.Stat(c.Dir + "/server.properties")
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
		out, err := os.ReadFile(c.Dir + "/broker.out")
		require.NoError(t, err)
		assert.Contains(t, string(out), "Kafka Server started", "the broker logs through the sandbox's log config")
		assert.NotContains(t, string(out), c.Admin.Password)
		assert.NotContains(t, string(out), hostilePassword)
	})

	t.Run("stop closes the port and is safe twice", func(t *testing.T) {
		require.NoError(t, c.Stop())
		require.NoError(t, c.Stop())
		conn, err := net.DialTimeout("tcp", c.Bootstrap, time.Second)
		if err == nil {
			conn.Close()
		}
		assert.Error(t, err, "broker port still open after Stop")
		assert.True(t, c.nodes[0].running().hasExited(), "broker process still running after Stop")
	})
}

func TestServerPropertiesAreLoopbackSCRAMReplicatedAsTheNodesAllow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nodes int
		want  []string
	}{{
		name: "one node", nodes: 1,
		want: []string{
			"node.id=1\n",
			"controller.quorum.voters=1@127.0.0.1:19093\n",
			"default.replication.factor=1\n", "min.insync.replicas=1\n",
			"offsets.topic.replication.factor=1\n", "transaction.state.log.replication.factor=1\n",
		},
	}, {
		name: "three nodes", nodes: 3,
		want: []string{
			"node.id=1\n",
			"controller.quorum.voters=1@127.0.0.1:19093\n",
			"default.replication.factor=3\n", "min.insync.replicas=2\n",
			"offsets.topic.replication.factor=3\n", "transaction.state.log.replication.factor=3\n",
			"transaction.state.log.min.isr=2\n",
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			p := serverProperties(nodeLayout{id: 1, port: 19092, controllerPort: 19093, voters: "1@127.0.0.1:19093",
				nodes: tc.nodes, dataDir: "/d"}, "Secret1", map[string]string{"num.partitions": "3"})
			for _, want := range append(tc.want,
				"listeners=SASL_PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093\n",
				"sasl.enabled.mechanisms=SCRAM-SHA-512\n",
				"group.initial.rebalance.delay.ms=0\n",
				"auto.create.topics.enable=false\n",
				"num.partitions=3\n",
				`username="admin" password="Secret1";`+"\n",
			) {
				assert.Contains(t, p, want)
			}
			assert.NotContains(t, p, "authorizer")
		})
	}
}

func TestClusterIDsAreKafkaUUIDs(t *testing.T) {
	for range 200 {
		id := newClusterID()
		assert.Len(t, id, 22)
		assert.NotEqual(t, byte('-'), id[0])
	}
	assert.Regexp(t, `^[A-Za-z0-9]{24}$`, randomAlnum(24))
}

func TestStartClusterRejectsANonAlphanumericAdminPassword(t *testing.T) {
	_, err := StartCluster(context.Background(), KafkaDist{}, ClusterOptions{Dir: t.TempDir(), AdminPassword: `a"b`})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "alphanumeric")
}
