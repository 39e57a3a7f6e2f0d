package charm

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/workload"
)

// Workload paths and identity, fixed by the Charmed Kafka rock.
const (
	launcher     = "/opt/kafka/bin/connect-mirror-maker.sh"
	jmxAgentPath = "/opt/kafka/libs/jmx_prometheus_javaagent.jar"
	workloadUser = "kafka"
)

// buildDesired is the whole desired state of this unit's container: rendered files, owned by the
// workload user, and the MM2 service. It is pure, so equal inputs give an equal plan and
// Reconcile restarts nothing when nothing changed.
func buildDesired(out mm2.Output, cfg config, address, kafkaVersion string, running bool) workload.Desired {
	d := workload.Desired{Running: running}
	for _, f := range out.Files {
		perm := os.FileMode(0o644)
		if f.Secret {
			perm = 0o600
		}
		d.Files = append(d.Files, workload.File{
			Path: f.Path, Content: f.Content, Perm: perm, User: workloadUser, Group: workloadUser,
		})
	}
	d.Service = workload.Service{
		Command: launcher + " " + mm2.PropertiesPath,
		User:    workloadUser,
		Group:   workloadUser,
		Environment: map[string]string{
			"KAFKA_HEAP_OPTS":            fmt.Sprintf("-Xms%s -Xmx%s", cfg.heapSize, cfg.heapSize),
			"KAFKA_OPTS":                 fmt.Sprintf("-javaagent:%s=%s:%d:%s", jmxAgentPath, address, mm2.JMXPort, mm2.JMXRulesPath),
			"KAFKA_LOG4J_OPTS":           log4jOpts(kafkaVersion),
			"KAFKA_JVM_PERFORMANCE_OPTS": jvmPerformanceOpts,
		},
		// The exporter's health endpoint: a short answer read whole. Probing /metrics made
		// the exporter log "Broken pipe" each time Pebble hung up on the long answer.
		CheckURL: fmt.Sprintf("http://%s:%d/-/healthy", address, mm2.JMXPort),
	}
	return d
}

// jvmPerformanceOpts replace the launcher's G1 with a 20 ms pause goal, which suits a broker's
// request latency, by the throughput collector: MM2 is a bulk copy whose records die young, a
// pause of a few milliseconds delays nothing anyone waits on, and G1's concurrent work competes
// for the cores the copy needs (make bench, one unit on two cores: 62k -> 85k records/s). The
// launcher's other flags stay.
const jvmPerformanceOpts = "-server -XX:+UseParallelGC -XX:MaxInlineLevel=15 -Djava.awt.headless=true"

// log4jOpts picks the logging configuration the workload's Kafka understands: log4j 1 (reload4j)
// up to 3.x, log4j2 from 4.0. An unknown version gets the 3.x form, the Charmed Kafka 3 rock's.
func log4jOpts(version string) string {
	major, _, _ := strings.Cut(version, ".")
	if n, err := strconv.Atoi(major); err == nil && n >= 4 {
		return "-Dlog4j2.configurationFile=" + mm2.Log4j2Path
	}
	return "-Dlog4j.configuration=file:" + mm2.Log4jPath
}

// describe says in a log line what Apply changed, or "" when nothing did.
func describe(r workload.Result) string {
	var parts []string
	if len(r.Pushed) > 0 {
		parts = append(parts, "pushed "+strings.Join(r.Pushed, ", "))
	}
	for _, p := range []struct {
		done bool
		what string
	}{
		{r.LayerChanged, "updated the layer"},
		{r.Started, "started"},
		{r.Restarted, "restarted"},
		{r.Stopped, "stopped"},
	} {
		if p.done {
			parts = append(parts, p.what)
		}
	}
	return strings.Join(parts, "; ")
}
