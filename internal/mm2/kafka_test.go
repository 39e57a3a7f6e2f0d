package mm2

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// kafkaLibsEnv names a directory of Kafka jars (connect-mirror and its dependencies, as
// `mvn dependency:copy-dependencies` leaves them). Set, it lets TestKafkaReadsRenderedConfig
// check the rendered files with MirrorMaker 2's own config classes; unset, it uses the sandbox's
// Kafka (.cache/kafka-<version>/libs, as make kafka installs it).
const kafkaLibsEnv = "MM2_TEST_KAFKA_LIBS"

type probeOutput map[string]map[string]string // section -> key -> value

// TestKafkaReadsRenderedConfig hands a rendered mm2.properties and secrets file to Kafka's
// MirrorMakerConfig, then builds the worker and connector configs the way MirrorMaker does, to
// show where each setting lands and that hostile passwords survive every transformation.
func TestKafkaReadsRenderedConfig(t *testing.T) {
	libs := os.Getenv(kafkaLibsEnv)
	if libs == "" {
		// The sandbox's Kafka (make kafka), which make test installs: this test must not skip
		// quietly where the jars are there to run it.
		d, err := localkafka.FindKafkaDist()
		if err != nil {
			if os.Getenv("MM_REQUIRE_SANDBOX") != "" {
				t.Fatalf("sandbox required: %v", err)
			}
			t.Skipf("skipping: neither %s nor the sandbox's Kafka: %v", kafkaLibsEnv, err)
		}
		libs = filepath.Join(d.Home, "libs")
	}
	javac, err := exec.LookPath("javac")
	if err != nil {
		t.Skip("no javac in PATH")
	}
	classes := t.TempDir()
	cp := filepath.Join(libs, "*")
	src, err := filepath.Abs("testdata/MM2Probe.java")
	require.NoError(t, err)
	if out, err := exec.Command(javac, "-encoding", "UTF-8", "-cp", cp, "-d", classes, src).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}

	in := goldenCases()["external-source-tls"]
	in.Source.Password = `p"a\ss w=rd:#!${file:/etc/passwd:x} ü😀` + "\r\n\t{}"
	in.Target.Password = "${file:/nonexistent:key}"
	in.Settings.ExactlyOnce = ExactlyOncePreparing
	out, err := Render(in)
	require.NoError(t, err)

	// The rendered files name /etc/kafka; the test's copies live in a temp dir.
	dir := t.TempDir()
	for _, f := range out.Files {
		content := strings.ReplaceAll(string(f.Content), "/etc/kafka/", dir+"/")
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f.Path)), []byte(content), 0o600))
	}
	cmd := exec.Command("java", "-cp", classes+string(os.PathListSeparator)+cp,
		"org.apache.kafka.connect.mirror.MM2Probe", filepath.Join(dir, "mm2.properties"), in.Source.Alias, in.Target.Alias)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	require.NoError(t, err, "%s", stderr.String())

	got := probeOutput{}
	for _, line := range strings.Split(strings.TrimSpace(string(stdout)), "\n") {
		fields := strings.Split(line, "\t")
		require.Len(t, fields, 3, line)
		kv := unhex(t, fields[1:])
		if got[fields[0]] == nil {
			got[fields[0]] = map[string]string{}
		}
		got[fields[0]][kv[0]] = kv[1]
	}

	// Only the forward herder exists: nothing runs against the source as a target.
	assert.Equal(t, map[string]string{"legacy->new": "true"}, got["pairs"])

	// Worker (herder) settings, read from the target's prefix and the top-level storage keys.
	for k, v := range map[string]string{
		"bootstrap.servers":                 "kafka-k8s-0.kafka-k8s-endpoints:9093",
		"security.protocol":                 "SASL_SSL",
		"exactly.once.source.support":       "preparing",
		"offset.flush.interval.ms":          "5000",
		"offset.storage.replication.factor": "3",
		"config.storage.replication.factor": "3",
		"status.storage.replication.factor": "3",
		"producer.acks":                     "all",
		"producer.enable.idempotence":       "true",
		"ssl.truststore.type":               "PEM",
		// Worker.baseProducerConfigs hands every producer.* key to the tasks' producers, over
		// Connect's one request in flight, 16 KB batches and no linger.
		"producer.max.in.flight.requests.per.connection": "5",
		"producer.batch.size":                            "262144",
		"producer.linger.ms":                             "20",
		"producer.buffer.memory":                         "67108864",
		"producer.compression.type":                      "none",
	} {
		assert.Equal(t, v, got["worker"][k], "worker %s", k)
	}
	// DistributedConfig parsed (and so accepted) the worker settings, not merely carried them.
	for k, v := range map[string]string{
		"exactly.once.source.support":       "preparing",
		"offset.flush.interval.ms":          "5000",
		"offset.storage.replication.factor": "3",
	} {
		assert.Equal(t, v, got["worker-value"][k], "parsed worker %s", k)
	}
	assert.Equal(t, in.Target.Password, got["jaas"]["worker.password"], "worker password")

	assert.Equal(t, "[http://10.1.0.11:8083]", got["rest"]["listeners"])
	assert.Equal(t, "10.1.0.11", got["rest"]["rest.advertised.host.name"])
	assert.Equal(t, "8083", got["rest"]["rest.advertised.port"])
	assert.Equal(t, "true", got["rest"]["internal"])

	// The connector config stored in the config topic holds references, never passwords.
	assert.Equal(t, "${file:"+dir+"/mm2-secrets.properties:legacy.sasl.jaas.config}",
		got["source-stored"]["source.cluster.sasl.jaas.config"])
	for k, v := range got["source-stored"] {
		assert.NotContains(t, v, "p\"a", "stored connector config %s holds a password", k)
	}

	for k, v := range map[string]string{
		"enabled":                               "true",
		"topics":                                ".*",
		"topics.exclude":                        `.*[\-\.]internal, .*\.replica, __.*`,
		"groups.exclude":                        "console-consumer-.*, connect-.*, __.*",
		"offset-syncs.topic.location":           "target",
		"replication.policy.class":              "org.apache.kafka.connect.mirror.IdentityReplicationPolicy",
		"tasks.max":                             "4",
		"replication.factor":                    "3",
		"offset-syncs.topic.replication.factor": "3",
		"sync.topic.configs.enabled":            "true",
		"sync.topic.acls.enabled":               "false",
		"refresh.topics.interval.seconds":       "60",
		"sync.topic.configs.interval.seconds":   "600",
		"offset.lag.max":                        "100",
	} {
		assert.Equal(t, v, got["source"][k], "source connector %s", k)
	}
	for k, v := range map[string]string{
		"checkpoints.topic.replication.factor": "3",
		"sync.group.offsets.enabled":           "true",
		"emit.checkpoints.interval.seconds":    "5",
		"sync.group.offsets.interval.seconds":  "5",
		"refresh.groups.interval.seconds":      "60",
		"groups":                               ".*",
		"offset-syncs.topic.location":          "target",
	} {
		assert.Equal(t, v, got["checkpoint"][k], "checkpoint connector %s", k)
	}

	// Clients: the replication consumer reads committed records from the source; offset syncs
	// go to the target; each logs in with its own cluster's credentials.
	assert.Equal(t, "read_committed", got["source-consumer"]["isolation.level"])
	assert.Equal(t, "2000", got["source-consumer"]["max.poll.records"])
	// MM2's offset syncs are sent at once, not batched with the copy's linger.
	assert.Equal(t, "0", got["offset-syncs-producer"]["linger.ms"])
	assert.Equal(t, "kafka1.example.internal:9093,[fd00::1]:9093", got["source-consumer"]["bootstrap.servers"])
	assert.Equal(t, dir+"/mm2-legacy-ca.pem", got["source-consumer"]["ssl.truststore.location"])
	assert.Equal(t, "kafka-k8s-0.kafka-k8s-endpoints:9093", got["offset-syncs-producer"]["bootstrap.servers"])
	for section, c := range map[string]Cluster{
		"source-consumer": in.Source, "source-admin": in.Source, "target-admin": in.Target, "offset-syncs-producer": in.Target,
	} {
		assert.Equal(t, c.Username, got["jaas"][section+".username"], section)
		assert.Equal(t, c.Password, got["jaas"][section+".password"], section)
		assert.Equal(t, loginModules[c.Mechanism], got["jaas"][section+".module"], section)
	}
}
