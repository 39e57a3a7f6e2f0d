package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/IBM/sarama"

	"mirrormaker-k8s/internal/sandbox/jujusim"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// stockRun names the how-to's configuration, the table's second reference.
const stockRun = "stock MM2 (the how-to's properties)"

// copyRuns are the rows of the table, in the order of the first round.
var copyRuns = []copyRun{
	{name: "raw produce (kafka-producer-perf-test)", metric: "raw", prepare: prepareRawProduce, all: true},
	{name: "consume-produce pipe (Go)", metric: "pipe", prepare: preparePipe},
	{name: stockRun, metric: "stock", prepare: prepareStock},
	{name: "charm MM2, 1 unit", metric: "charm-1", prepare: prepareCharm(1, nil)},
	{name: "charm MM2, 2 units", metric: "charm-2", prepare: prepareCharm(2, nil)},
	{name: "charm MM2, 1 unit, exactly-once", metric: "charm-1-eos", prepare: prepareCharm(1, map[string]any{"exactly-once": "enabled"})},
}

// createTargetTopic creates the topic on target as MM2 would (same partitions),
// for the runs that write it themselves.
func (w *benchWorld) createTargetTopic(target *localkafka.Cluster) error {
	kit, err := localkafka.NewKit(target)
	if err != nil {
		return err
	}
	defer kit.Close()
	return kit.CreateTopic(w.shape.topic, w.shape.partitions, nil)
}

// scramClientProperties are a Java client's settings for c's admin user.
func scramClientProperties(prefix string, c *localkafka.Cluster) []string {
	return []string{
		prefix + "bootstrap.servers=" + c.Bootstrap,
		prefix + "security.protocol=SASL_PLAINTEXT",
		prefix + "sasl.mechanism=SCRAM-SHA-512",
		prefix + fmt.Sprintf(`sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";`,
			c.Admin.Username, c.Admin.Password),
	}
}

// writeSecretFile writes lines into a new 0600 file in a fresh directory.
func writeSecretFile(name string, lines []string) (string, error) {
	dir, err := os.MkdirTemp("", "mm-bench-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	return path, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}

// startJava runs one of the dist's launchers with its own defaults (no
// KAFKA_* variables of this process), output to out, in its own process
// group that dies with this process. The returned stop kills it.
func startJava(script, out string, args ...string) (func() error, func(), error) {
	f, err := os.Create(out)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(script, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KAFKA_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	exited := make(chan struct{})
	start := func() error {
		if err := cmd.Start(); err != nil {
			return err
		}
		go func() { _ = cmd.Wait(); close(exited) }()
		return nil
	}
	stop := func() {
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		f.Close()
		// The output stays (its path is in the failure), the secrets go.
		_ = os.Remove(strings.TrimSuffix(out, ".out"))
	}
	return start, stop, nil
}

// prepareRawProduce is the machine's produce limit: Kafka's own perf tool
// writing as many records of the same size (random bytes; it has no keys)
// into the target, acks=all and idempotent as MM2's producers are, with
// batches large enough that the broker, not the client, is the limit.
func prepareRawProduce(w *benchWorld, target *localkafka.Cluster) (func() error, func(), error) {
	if err := w.createTargetTopic(target); err != nil {
		return nil, nil, err
	}
	config, err := writeSecretFile("producer.properties", scramClientProperties("", target))
	if err != nil {
		return nil, nil, err
	}
	return startJava(filepath.Join(w.dist.Home, "bin", "kafka-producer-perf-test.sh"), config+".out",
		"--topic", w.shape.topic, "--num-records", strconv.Itoa(w.shape.records),
		"--record-size", strconv.Itoa(w.shape.size), "--throughput", "-1", "--producer.config", config,
		"--producer-props", "acks=all", "enable.idempotence=true", "batch.size=524288", "linger.ms=20")
}

// stockProperties is mm2.properties as Charmed Kafka's migration how-to
// writes it (clusters old and new, old->new only, topic names kept, every
// topic and group, three tasks, five-second intervals, read_committed
// consumers, idempotent acks=all producers), with replication factors of one
// for the sandbox's one-node clusters.
func stockProperties(source, target *localkafka.Cluster) []string {
	lines := append(scramClientProperties("old.", source), scramClientProperties("new.", target)...)
	return append(lines,
		"clusters=old,new",
		"old->new.enabled=true",
		"new->old.enabled=false",
		"replication.policy.class=org.apache.kafka.connect.mirror.IdentityReplicationPolicy",
		"topics=.*",
		"groups=.*",
		"tasks.max=3",
		"refresh.topics.interval.seconds=5",
		"refresh.groups.interval.seconds=5",
		"sync.group.offsets.enabled=true",
		"sync.group.offsets.interval.seconds=5",
		"emit.checkpoints.interval.seconds=5",
		"old.consumer.isolation.level=read_committed",
		"new.producer.enable.idempotence=true",
		"new.producer.acks=all",
		"replication.factor=1",
		"checkpoints.topic.replication.factor=1",
		"heartbeats.topic.replication.factor=1",
		"offset-syncs.topic.replication.factor=1",
		"offset.storage.replication.factor=1",
		"config.storage.replication.factor=1",
		"status.storage.replication.factor=1",
	)
}

// prepareStock runs connect-mirror-maker.sh on the how-to's file with the
// launcher's own JVM settings, as a user following the how-to would.
func prepareStock(w *benchWorld, target *localkafka.Cluster) (func() error, func(), error) {
	props, err := writeSecretFile("mm2.properties", stockProperties(w.source, target))
	if err != nil {
		return nil, nil, err
	}
	return startJava(filepath.Join(w.dist.Home, "bin", "connect-mirror-maker.sh"), props+".out", props)
}

// prepareCharm deploys the shipped charm on units pods with its default
// config (but for replication factors the one-node clusters can hold, and
// extra), relates it to both clusters as Charmed Kafka would, and starts
// the run with start-migration on the leader, as a user would.
func prepareCharm(units int, extra map[string]any) func(*benchWorld, *localkafka.Cluster) (func() error, func(), error) {
	return func(w *benchWorld, target *localkafka.Cluster) (func() error, func(), error) {
		dir, err := os.MkdirTemp("", "mm-bench-juju-")
		if err != nil {
			return nil, nil, err
		}
		sim, err := jujusim.Open(jujusim.Options{Dir: dir, CharmFile: w.charmFile, PebbleBin: w.pebble,
			KafkaHome: w.dist.Home, HookTimeout: 2 * time.Minute, OwnPods: true})
		if err != nil {
			return nil, nil, err
		}
		stop := func() {
			if err := sim.Close(); err != nil {
				w.b.Errorf("cannot close the simulator: %v", err)
			}
			os.RemoveAll(dir)
		}
		config := map[string]any{"replication-factor": 1, "internal-replication-factor": 1}
		for k, v := range extra {
			config[k] = v
		}
		err = sim.Deploy(w.ctx, units, config)
		for _, rel := range []struct {
			endpoint, app string
			c             *localkafka.Cluster
		}{{"source", "kafka-old", w.source}, {"target", "kafka-k8s", target}} {
			if err == nil {
				_, err = sim.Relate(w.ctx, rel.endpoint, jujusim.NewKafkaProvider(rel.app, rel.c.Bootstrap, rel.c.CreateUser, jujusim.SecretFields))
			}
		}
		if err != nil {
			stop()
			return nil, nil, err
		}
		start := func() error {
			res, err := sim.Run(w.ctx, "leader", "start-migration", nil)
			if err == nil && res.Failed {
				err = fmt.Errorf("start-migration failed: %s", res.Message)
			}
			return err
		}
		return start, stop, nil
	}
}

// preparePipe is the machine's copy limit as a plain program sees it: one
// consumer reading every partition from the start and one idempotent
// acks=all producer writing each record to the same partition of the
// target, read_committed as MM2 reads.
func preparePipe(w *benchWorld, target *localkafka.Cluster) (func() error, func(), error) {
	if err := w.createTargetTopic(target); err != nil {
		return nil, nil, err
	}
	scfg := w.source.Config(w.source.Admin)
	scfg.Consumer.IsolationLevel = sarama.ReadCommitted
	scfg.Consumer.Fetch.Default = 1 << 20
	scfg.ChannelBufferSize = 4096
	tcfg := target.Config(target.Admin)
	tcfg.Producer.Idempotent = true
	tcfg.Net.MaxOpenRequests = 1 // sarama's rule for an idempotent producer
	tcfg.Producer.Return.Successes = false
	tcfg.Producer.Partitioner = sarama.NewManualPartitioner
	tcfg.Producer.Flush.Bytes = 512 << 10
	tcfg.Producer.Flush.Frequency = 20 * time.Millisecond
	tcfg.ChannelBufferSize = 4096

	var consumer sarama.Consumer
	var producer sarama.AsyncProducer
	var wg, drained sync.WaitGroup
	var pcs []sarama.PartitionConsumer
	ctx, cancel := context.WithCancel(w.ctx)
	stop := func() {
		cancel()
		for _, pc := range pcs {
			pc.AsyncClose()
		}
		wg.Wait()
		if producer != nil {
			producer.AsyncClose()
			drained.Wait()
		}
		if consumer != nil {
			consumer.Close()
		}
	}
	start := func() error {
		var err error
		if consumer, err = sarama.NewConsumer(w.source.Addrs(), scfg); err != nil {
			return err
		}
		if producer, err = sarama.NewAsyncProducer(target.Addrs(), tcfg); err != nil {
			return err
		}
		drained.Go(func() {
			for e := range producer.Errors() {
				w.b.Errorf("the pipe cannot write: %v", e)
			}
		})
		for p := range w.shape.partitions {
			pc, err := consumer.ConsumePartition(w.shape.topic, p, sarama.OffsetOldest)
			if err != nil {
				return err
			}
			pcs = append(pcs, pc)
			wg.Go(func() {
				for m := range pc.Messages() {
					select {
					case producer.Input() <- &sarama.ProducerMessage{Topic: w.shape.topic, Partition: m.Partition,
						Key: sarama.ByteEncoder(m.Key), Value: sarama.ByteEncoder(m.Value), Timestamp: m.Timestamp}:
					case <-ctx.Done():
						return
					}
				}
			})
		}
		return nil
	}
	return start, stop, nil
}
