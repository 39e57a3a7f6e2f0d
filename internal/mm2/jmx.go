package mm2

// jmxRules configures the Prometheus JMX exporter agent. Charmed Kafka's stock Connect rules
// lack the kafka.connect.mirror domain, which is where MM2 reports replication progress.
//
// The exporter matches each rule against "domain<key=value, ...><>attribute: value", the keys
// in the order Kafka registered them, and the first rule that matches wins. Kafka 3.x tags
// MirrorSourceConnector metrics target, topic, partition; 4.x (and 3.x with
// add.source.alias.to.metrics) puts source first, so each gets a rule. Rules end before the
// attribute's value; the ':' after the attribute name keeps record-age-ms from matching
// record-age-ms-max.
const jmxRules = `# ` + header + `
lowercaseOutputName: true
lowercaseOutputLabelNames: true
rules:
  # MirrorSourceConnector, per replicated partition (Kafka 4.x, or 3.x with the source tag).
  - pattern: 'kafka.connect.mirror<type=MirrorSourceConnector, source=([^,]+), target=([^,]+), topic=([^,]+), partition=([0-9]+)><>(record-count|record-rate|byte-count|byte-rate|record-age-ms|record-age-ms-max|record-age-ms-min|record-age-ms-avg|replication-latency-ms|replication-latency-ms-max|replication-latency-ms-min|replication-latency-ms-avg):'
    name: kafka_connect_mirror_source_connector_$5
    type: GAUGE
    labels:
      source: '$1'
      target: '$2'
      topic: '$3'
      partition: '$4'
  # MirrorSourceConnector, per replicated partition (Kafka 3.x).
  - pattern: 'kafka.connect.mirror<type=MirrorSourceConnector, target=([^,]+), topic=([^,]+), partition=([0-9]+)><>(record-count|record-rate|byte-count|byte-rate|record-age-ms|record-age-ms-max|record-age-ms-min|record-age-ms-avg|replication-latency-ms|replication-latency-ms-max|replication-latency-ms-min|replication-latency-ms-avg):'
    name: kafka_connect_mirror_source_connector_$4
    type: GAUGE
    labels:
      target: '$1'
      topic: '$2'
      partition: '$3'
  # MirrorCheckpointConnector, per group and partition. Group names may be quoted by Kafka.
  - pattern: 'kafka.connect.mirror<type=MirrorCheckpointConnector, source=([^,]+), target=([^,]+), group=(.+), topic=([^,]+), partition=([0-9]+)><>(checkpoint-latency-ms|checkpoint-latency-ms-max|checkpoint-latency-ms-min|checkpoint-latency-ms-avg):'
    name: kafka_connect_mirror_checkpoint_connector_$6
    type: GAUGE
    labels:
      source: '$1'
      target: '$2'
      group: '$3'
      topic: '$4'
      partition: '$5'
  # Connect: connector and task states, as one series per state with value 1.
  - pattern: 'kafka.connect<type=connector-metrics, connector=([^,]+)><>status: ([a-z-]+)'
    name: kafka_connect_connector_status
    value: 1
    type: GAUGE
    labels:
      connector: '$1'
      status: '$2'
  - pattern: 'kafka.connect<type=connector-task-metrics, connector=([^,]+), task=([0-9]+)><>status: ([a-z-]+)'
    name: kafka_connect_connector_task_status
    value: 1
    type: GAUGE
    labels:
      connector: '$1'
      task: '$2'
      status: '$3'
  # Connect: per-task figures (batch sizes, offset commits, polls, errors).
  - pattern: 'kafka.connect<type=(connector-task-metrics|source-task-metrics|task-error-metrics), connector=([^,]+), task=([0-9]+)><>([a-z-]+):'
    name: kafka_connect_$1_$4
    type: GAUGE
    labels:
      connector: '$2'
      task: '$3'
  # Connect: worker-wide figures, per connector and overall, and rebalances.
  - pattern: 'kafka.connect<type=connect-worker-metrics, connector=([^,]+)><>([a-z-]+):'
    name: kafka_connect_worker_connector_$2
    type: GAUGE
    labels:
      connector: '$1'
  - pattern: 'kafka.connect<type=connect-worker-metrics><>([a-z-]+):'
    name: kafka_connect_worker_$1
    type: GAUGE
  - pattern: 'kafka.connect<type=connect-worker-rebalance-metrics><>([a-z-]+):'
    name: kafka_connect_worker_rebalance_$1
    type: GAUGE
  # The replication consumers' lag behind the source's log end, per partition.
  - pattern: 'kafka.consumer<type=consumer-fetch-manager-metrics, client-id=([^,]+), topic=([^,]+), partition=([0-9]+)><>(records-lag|records-lag-max|records-lag-avg|records-lead|records-lead-min|records-lead-avg):'
    name: kafka_consumer_fetch_manager_$4
    type: GAUGE
    labels:
      client_id: '$1'
      topic: '$2'
      partition: '$3'
`
