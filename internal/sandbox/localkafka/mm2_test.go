package localkafka

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/freeport"
	"mirrormaker-k8s/internal/sandbox/internal/logtail"
	"mirrormaker-k8s/internal/sandbox/internal/poll"
)

// TestGivenTwoClustersWhenTheLauncherRunsMM2ThenTopicsReplicate proves the
// installed dist is what the workload needs: bin/connect-mirror-maker.sh runs
// real MirrorMaker 2 with a file config provider for the JAAS secrets, the
// JMX exporter agent at libs/jmx_prometheus_javaagent.jar serves metrics, and
// MM2 logs to stdout.
func TestGivenTwoClustersWhenTheLauncherRunsMM2ThenTopicsReplicate(t *testing.T) {
	d := requireKafkaDist(t)
	old := startKafkaForTest(t, "old")
	new := startKafkaForTest(t, "new")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	admin, err := old.NewAdmin(old.Admin)
	require.NoError(t, err)
	defer admin.Close()
	require.NoError(t, admin.CreateTopic("orders", &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false))
	client, err := old.NewClient(old.Admin)
	require.NoError(t, err)
	defer client.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	require.NoError(t, err)
	defer producer.Close()
	const records = 10
	for i := range records {
		_, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: "orders",
			Key: sarama.StringEncoder(fmt.Sprint("k", i)), Value: sarama.StringEncoder(fmt.Sprint("v", i))})
		require.NoError(t, err)
	}

	dir := t.TempDir()
	jaas := func(c Credentials) string {
		return fmt.Sprintf(`org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";`, c.Username, c.Password)
	}
	secrets := filepath.Join(dir, "mm2-secrets.properties")
	require.NoError(t, os.WriteFile(secrets, []byte(
		"old.sasl.jaas.config="+jaas(old.Admin)+"\nnew.sasl.jaas.config="+jaas(new.Admin)+"\n"), 0o600))
	props := []string{
		"clusters=old,new",
		"old.bootstrap.servers=" + old.Bootstrap,
		"new.bootstrap.servers=" + new.Bootstrap,
		"config.providers=file",
		"config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider",
	}
	for _, c := range []string{"old", "new"} {
		props = append(props,
			c+".security.protocol=SASL_PLAINTEXT",
			c+".sasl.mechanism=SCRAM-SHA-512",
			c+".sasl.jaas.config=${file:"+secrets+":"+c+".sasl.jaas.config}")
	}
	props = append(props,
		"old->new.enabled=true", "new->old.enabled=false", "new->old.emit.heartbeats.enabled=false",
		"topics=orders", "sync.topic.acls.enabled=false", "offset-syncs.topic.location=target",
		"replication.factor=1", "checkpoints.topic.replication.factor=1", "heartbeats.topic.replication.factor=1",
		"offset-syncs.topic.replication.factor=1", "offset.storage.replication.factor=1",
		"status.storage.replication.factor=1", "config.storage.replication.factor=1",
	)
	mm2Props := filepath.Join(dir, "mm2.properties")
	require.NoError(t, os.WriteFile(mm2Props, []byte(strings.Join(props, "\n")+"\n"), 0o600))
	rules := filepath.Join(dir, "jmx.yaml")
	require.NoError(t, os.WriteFile(rules, []byte("rules:\n- pattern: \".*\"\n"), 0o644))
	jmxPort, err := freeport.Pick()
	require.NoError(t, err)

	outPath := filepath.Join(dir, "mm2.out")
	out, err := os.Create(outPath)
	require.NoError(t, err)
	defer out.Close()
	cmd := exec.Command(d.mirrorMakerScript(), mm2Props, "--clusters", "new")
	cmd.Env = append(os.Environ(),
		"KAFKA_HEAP_OPTS=-Xms64m -Xmx384m",
		"KAFKA_JVM_PERFORMANCE_OPTS=-XX:+UseSerialGC -XX:TieredStopAtLevel=1",
		fmt.Sprintf("KAFKA_OPTS=-javaagent:%s=127.0.0.1:%d:%s", filepath.Join(d.libsDir(), "jmx_prometheus_javaagent.jar"), jmxPort, rules),
	)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			t.Log(logtail.Of(outPath, 60))
		}
	})

	target, err := new.NewClient(new.Admin)
	require.NoError(t, err)
	defer target.Close()
	var got []string
	err = poll.Until(ctx, 150*time.Second, time.Second, func() (bool, error) {
		select {
		case <-exited:
			return false, fmt.Errorf("MirrorMaker exited early:\n%s", logtail.Of(outPath, 60))
		default:
		}
		if err := target.RefreshMetadata("old.orders"); err != nil {
			return false, nil
		}
		end, err := target.GetOffset("old.orders", 0, sarama.OffsetNewest)
		return err == nil && end >= records, nil
	}, "old.orders to be replicated to new")
	require.NoError(t, err)

	consumer, err := sarama.NewConsumerFromClient(target)
	require.NoError(t, err)
	defer consumer.Close()
	pc, err := consumer.ConsumePartition("old.orders", 0, sarama.OffsetOldest)
	require.NoError(t, err)
	defer pc.Close()
	for len(got) < records {
		select {
		case m := <-pc.Messages():
			got = append(got, string(m.Key)+"="+string(m.Value))
		case <-ctx.Done():
			t.Fatalf("only %d records consumed", len(got))
		}
	}
	assert.Equal(t, "k0=v0", got[0])
	assert.Equal(t, "k9=v9", got[records-1])

	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", jmxPort))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "kafka_connect_mirror", "the agent exports MM2's own metrics")

	logs, err := os.ReadFile(outPath)
	require.NoError(t, err)
	assert.Contains(t, string(logs), "INFO", "MM2 logs to stdout through the shipped config")
	assert.NotContains(t, string(logs), old.Admin.Password)
}
