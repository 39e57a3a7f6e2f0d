#!/usr/bin/env bash
# kafka-producer-perf-test.sh --topic T --num-records N ... (Kafka's own arguments)
#
# Runs Kafka's producer performance tool, as Kafka's own
# bin/kafka-producer-perf-test.sh does (KAFKA_HEAP_OPTS defaulting to
# -Xmx512M). The benchmarks use it for the machine's raw produce rate.
set -eu

export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx512M}
exec "$(dirname "$(readlink -f "$0")")/kafka-run-class.sh" org.apache.kafka.tools.ProducerPerformance "$@"
