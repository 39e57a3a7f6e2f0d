package mm2

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

type jmxConfig struct {
	LowercaseOutputName       bool `yaml:"lowercaseOutputName"`
	LowercaseOutputLabelNames bool `yaml:"lowercaseOutputLabelNames"`
	Rules                     []struct {
		Pattern string            `yaml:"pattern"`
		Name    string            `yaml:"name"`
		Value   any               `yaml:"value"`
		Type    string            `yaml:"type"`
		Labels  map[string]string `yaml:"labels"`
	} `yaml:"rules"`
}

var unsafeMetricChars = regexp.MustCompile(`[^a-zA-Z0-9:_]+`)

// groupRef is Java's $n in a replacement; Go would read "$1_" as a group named "1_".
var groupRef = regexp.MustCompile(`\$([0-9]+)`)

func javaExpand(re *regexp.Regexp, template, s string, m []int) string {
	return string(re.ExpandString(nil, groupRef.ReplaceAllString(template, "$${$1}"), s, m))
}

// exportJMX applies the rules the way the Prometheus JMX exporter does: each pattern is wrapped
// as ^.*(?:pattern).*$, the first that matches names the metric, and $n refer to its groups.
func exportJMX(t *testing.T, cfg jmxConfig, bean string) (string, map[string]string) {
	t.Helper()
	for _, r := range cfg.Rules {
		re := regexp.MustCompile("^.*(?:" + r.Pattern + ").*$")
		m := re.FindStringSubmatchIndex(bean)
		if m == nil {
			continue
		}
		name := javaExpand(re, r.Name, bean, m)
		if cfg.LowercaseOutputName {
			name = strings.ToLower(name)
		}
		labels := map[string]string{}
		for k, v := range r.Labels {
			labels[k] = javaExpand(re, v, bean, m)
		}
		return unsafeMetricChars.ReplaceAllString(name, "_"), labels
	}
	return "", nil
}

func TestJMXRules(t *testing.T) {
	var cfg jmxConfig
	require.NoError(t, yaml.Unmarshal([]byte(jmxRules), &cfg))
	require.True(t, cfg.LowercaseOutputName)
	tests := []struct {
		bean   string
		name   string
		labels map[string]string
	}{{
		bean:   "kafka.connect.mirror<type=MirrorSourceConnector, target=new, topic=orders, partition=3><>record-count: 12",
		name:   "kafka_connect_mirror_source_connector_record_count",
		labels: map[string]string{"target": "new", "topic": "orders", "partition": "3"},
	}, {
		bean:   "kafka.connect.mirror<type=MirrorSourceConnector, source=old, target=new, topic=orders, partition=3><>replication-latency-ms-max: 7.0",
		name:   "kafka_connect_mirror_source_connector_replication_latency_ms_max",
		labels: map[string]string{"source": "old", "target": "new", "topic": "orders", "partition": "3"},
	}, {
		bean:   "kafka.connect.mirror<type=MirrorSourceConnector, source=old, target=new, topic=old.orders, partition=0><>byte-rate: 1.5",
		name:   "kafka_connect_mirror_source_connector_byte_rate",
		labels: map[string]string{"source": "old", "target": "new", "topic": "old.orders", "partition": "0"},
	}, {
		bean: "kafka.connect.mirror<type=MirrorCheckpointConnector, source=old, target=new, group=\"a,b\", topic=orders, partition=1><>checkpoint-latency-ms-avg: 3.0",
		name: "kafka_connect_mirror_checkpoint_connector_checkpoint_latency_ms_avg",
		labels: map[string]string{"source": "old", "target": "new", "group": "\"a,b\"", "topic": "orders",
			"partition": "1"},
	}, {
		bean:   "kafka.connect<type=connector-metrics, connector=MirrorSourceConnector><>status: running",
		name:   "kafka_connect_connector_status",
		labels: map[string]string{"connector": "MirrorSourceConnector", "status": "running"},
	}, {
		bean:   "kafka.connect<type=connector-task-metrics, connector=MirrorSourceConnector, task=2><>status: failed",
		name:   "kafka_connect_connector_task_status",
		labels: map[string]string{"connector": "MirrorSourceConnector", "task": "2", "status": "failed"},
	}, {
		bean:   "kafka.connect<type=source-task-metrics, connector=MirrorSourceConnector, task=0><>source-record-poll-rate: 2.0",
		name:   "kafka_connect_source_task_metrics_source_record_poll_rate",
		labels: map[string]string{"connector": "MirrorSourceConnector", "task": "0"},
	}, {
		bean:   "kafka.connect<type=connect-worker-metrics><>task-count: 4.0",
		name:   "kafka_connect_worker_task_count",
		labels: map[string]string{},
	}, {
		bean:   "kafka.consumer<type=consumer-fetch-manager-metrics, client-id=consumer-null-3, topic=orders, partition=5><>records-lag: 42.0",
		name:   "kafka_consumer_fetch_manager_records_lag",
		labels: map[string]string{"client_id": "consumer-null-3", "topic": "orders", "partition": "5"},
	}, {
		bean:   "kafka.connect<type=connect-worker-rebalance-metrics><>rebalancing: 0.0",
		name:   "kafka_connect_worker_rebalance_rebalancing",
		labels: map[string]string{},
	}, {
		bean:   "kafka.connect<type=connect-worker-metrics, connector=MirrorCheckpointConnector><>connector-running-task-count: 1.0",
		name:   "kafka_connect_worker_connector_connector_running_task_count",
		labels: map[string]string{"connector": "MirrorCheckpointConnector"},
	}, {
		bean: "kafka.server<type=BrokerTopicMetrics><>Count: 1",
	}}
	for _, tt := range tests {
		t.Run(tt.bean, func(t *testing.T) {
			name, labels := exportJMX(t, cfg, tt.bean)
			assert.Equal(t, tt.name, name)
			assert.Equal(t, tt.labels, labels)
		})
	}
}
