package localkafka

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/IBM/sarama"

	"mirrormaker-k8s/internal/sandbox/internal/repo"
)

// defaultKafkaVersion is the Kafka the sandbox runs when $KAFKA_VERSION is
// unset: the 3.9 line the charm targets first, that of the Charmed Kafka 3
// rock metadata.yaml names.
const defaultKafkaVersion = "3.9.1"

// KafkaDist is a Kafka installation assembled from Maven jars by
// scripts/install-kafka.sh: Home holds libs/ (broker, MirrorMaker 2, logging,
// JMX exporter agent) and bin/connect-mirror-maker.sh. It is what a pod's
// /opt/kafka is bound to and what StartCluster runs brokers from.
type KafkaDist struct {
	Home    string
	Version string
}

// FindKafkaDist locates the Kafka the sandbox uses, so tests and the demo need
// no flags: $MM_KAFKA_HOME if set, else <repo>/.cache/kafka-<version> with the
// version from $KAFKA_VERSION (default defaultKafkaVersion). The error says how
// to install it, so a skipped test tells the reader what to run.
func FindKafkaDist() (KafkaDist, error) {
	version := os.Getenv("KAFKA_VERSION")
	if version == "" {
		version = defaultKafkaVersion
	}
	home := os.Getenv("MM_KAFKA_HOME")
	if home == "" {
		home = filepath.Join(repo.Root(), ".cache", "kafka-"+version)
	} else if b, err := os.ReadFile(filepath.Join(home, "VERSION")); err == nil {
		version = strings.TrimSpace(string(b))
	}
	d := KafkaDist{Home: home, Version: version}
	if err := d.check(); err != nil {
		return KafkaDist{}, fmt.Errorf("cannot use Kafka %s at %s (run make kafka, or scripts/install-kafka.sh %s %s): %w",
			version, home, version, home, err)
	}
	return d, nil
}

// errDistMissing reports that no installed Kafka was found; tests branch
// on it to skip rather than fail.
var errDistMissing = errors.New("kafka distribution not installed")

func (d KafkaDist) check() error {
	if _, err := os.Stat(filepath.Join(d.Home, ".complete")); err != nil {
		return errDistMissing
	}
	for _, p := range []string{d.libsDir(), d.mirrorMakerScript()} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w: %v", errDistMissing, err)
		}
	}
	return nil
}

// libsDir is the folder of jars; the classpath is libsDir()/*.
func (d KafkaDist) libsDir() string { return filepath.Join(d.Home, "libs") }

// mirrorMakerScript is the launcher the workload runs as
// /opt/kafka/bin/connect-mirror-maker.sh.
func (d KafkaDist) mirrorMakerScript() string {
	return filepath.Join(d.Home, "bin", "connect-mirror-maker.sh")
}

// major is the major version (3 or 4): logging and quorum details differ.
func (d KafkaDist) major() int {
	var major int
	fmt.Sscanf(d.Version, "%d", &major)
	return major
}

// saramaVersion is the protocol version clients should announce to this
// Kafka: Kafka 4 dropped old request versions (KIP-896), so sarama's default
// is not safe there.
func (d KafkaDist) saramaVersion() sarama.KafkaVersion {
	v, err := sarama.ParseKafkaVersion(d.Version)
	if err != nil || !v.IsAtLeast(sarama.V2_8_0_0) {
		return sarama.V3_9_0_0
	}
	if sarama.MaxVersion.IsAtLeast(v) {
		return v
	}
	return sarama.MaxVersion
}

// javaBin is $JAVA_HOME/bin/java when set, else java from PATH, as Kafka's
// scripts choose it.
func javaBin() (string, error) {
	if h := os.Getenv("JAVA_HOME"); h != "" {
		return filepath.Join(h, "bin", "java"), nil
	}
	p, err := exec.LookPath("java")
	if err != nil {
		return "", fmt.Errorf("cannot find java (set JAVA_HOME or PATH): %w", err)
	}
	return p, nil
}
