package localkafka

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// brokerJVMArgs keeps each broker small and quick to start: the sandbox runs
// several JVMs on two cores. C1-only JIT starts faster and the sandbox's
// traffic is tiny.
var brokerJVMArgs = []string{
	"-Xms64m", "-Xmx512m",
	"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
	"-Djava.awt.headless=true",
}

// adminJAAS is a listener's SCRAM login for the broker's admin user. The
// admin password is generated alphanumeric (checked by StartCluster), so it
// needs no escaping inside the JAAS string.
func adminJAAS(adminPassword string) string {
	return "org.apache.kafka.common.security.scram.ScramLoginModule required " +
		`username="admin" password="` + adminPassword + `";`
}

// nodeLayout is where one node of a cluster listens and keeps its data.
type nodeLayout struct {
	id                   int
	port, controllerPort int
	voters               string // controller.quorum.voters: every node's id@controller address
	nodes                int    // how many nodes the cluster has
	dataDir              string
}

// serverProperties renders a KRaft combined broker+controller node on
// loopback with SASL_PLAINTEXT SCRAM-SHA-512 clients, as Charmed Kafka serves
// its clients. With three nodes or more, topics (internal ones included)
// default to replication factor 3 and min.insync.replicas 2, as a production
// cluster's; with fewer, to what the nodes can hold.
//
// There is deliberately no authorizer: any authenticated user may do anything.
// The sandbox tests authentication and replication, not ACLs; Charmed Kafka's
// admin role gives the charm's user super-user rights anyway.
// The CONTROLLER listener is PLAINTEXT (SCRAM cannot guard it), so it only
// ever binds 127.0.0.1.
func serverProperties(n nodeLayout, adminPassword string, extra map[string]string) string {
	rf, minISR := min(n.nodes, 3), max(min(n.nodes, 3)-1, 1)
	props := map[string]string{
		"process.roles":                        "broker,controller",
		"node.id":                              fmt.Sprint(n.id),
		"controller.quorum.voters":             n.voters,
		"listeners":                            fmt.Sprintf("SASL_PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d", n.port, n.controllerPort),
		"advertised.listeners":                 fmt.Sprintf("SASL_PLAINTEXT://127.0.0.1:%d", n.port),
		"controller.listener.names":            "CONTROLLER",
		"inter.broker.listener.name":           "SASL_PLAINTEXT",
		"listener.security.protocol.map":       "CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
		"sasl.enabled.mechanisms":              "SCRAM-SHA-512",
		"sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
		"listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": adminJAAS(adminPassword),
		"log.dirs":                                         n.dataDir,
		"num.partitions":                                   "1",
		"default.replication.factor":                       fmt.Sprint(rf),
		"min.insync.replicas":                              fmt.Sprint(minISR),
		"offsets.topic.replication.factor":                 fmt.Sprint(rf),
		"offsets.topic.num.partitions":                     "5",
		"transaction.state.log.replication.factor":         fmt.Sprint(rf),
		"transaction.state.log.min.isr":                    fmt.Sprint(minISR),
		"transaction.state.log.num.partitions":             "5",
		"share.coordinator.state.topic.replication.factor": fmt.Sprint(rf),
		"share.coordinator.state.topic.min.isr":            fmt.Sprint(minISR),
		"group.initial.rebalance.delay.ms":                 "0",
		"auto.create.topics.enable":                        "false",
		"log.segment.bytes":                                "16777216",
		"log.retention.check.interval.ms":                  "300000",
	}
	for k, v := range extra {
		props[k] = v
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by the mirrormaker-k8s sandbox: a KRaft combined-mode node.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, props[k])
	}
	return b.String()
}

// log4jProperties configures Kafka 3.x (reload4j): everything to stdout, which
// StartCluster sends to Dir/broker.out.
const log4jProperties = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.org.apache.kafka.storage.internals.log=WARN
`

// log4j2Properties configures Kafka 4.x (log4j2) the same way.
const log4j2Properties = `status = warn
name = sandbox
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.statechange.name = state.change.logger
logger.statechange.level = warn
logger.storage.name = org.apache.kafka.storage.internals.log
logger.storage.level = warn
`

// writeBrokerFiles writes server.properties (0600: it holds the admin
// password) and both logging configs into dir, returning the JVM flags that
// select the logging config. Both flags are passed; each Kafka reads its own.
func writeBrokerFiles(dir, serverProps string) (logFlags []string, err error) {
	files := []struct {
		name, content string
		mode          os.FileMode
	}{
		{"server.properties", serverProps, 0o600},
		{"log4j.properties", log4jProperties, 0o644},
		{"log4j2.properties", log4j2Properties, 0o644},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.content), f.mode); err != nil {
			return nil, fmt.Errorf("cannot write %s: %w", f.name, err)
		}
		// WriteFile keeps the mode of an existing file: enforce it.
		if err := os.Chmod(filepath.Join(dir, f.name), f.mode); err != nil {
			return nil, fmt.Errorf("cannot chmod %s: %w", f.name, err)
		}
	}
	logsDir := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logsDir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", logsDir, err)
	}
	return []string{
		"-Dkafka.logs.dir=" + logsDir,
		"-Dlog4j.configuration=file:" + filepath.Join(dir, "log4j.properties"),
		"-Dlog4j2.configurationFile=" + filepath.Join(dir, "log4j2.properties"),
	}, nil
}
