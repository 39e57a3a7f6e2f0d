#!/usr/bin/env bash
# kafka-producer-perf-test.sh --topic T --num-records N ... (Kafka's own arguments)
#
# Runs Kafka's producer performance tool, as Kafka's own
# bin/kafka-producer-perf-test.sh does (KAFKA_HEAP_OPTS defaulting to -Xmx512M,
# classpath <base>/libs/*). The benchmarks use it for the machine's raw
# produce rate.
set -eu

self=$(readlink -f "$0")
base=$(cd "$(dirname "$self")/.." && pwd -P)

if [ -n "${JAVA_HOME:-}" ]; then
	java="$JAVA_HOME/bin/java"
else
	java=java
fi

log4j=${KAFKA_LOG4J_OPTS:--Dlog4j.configuration=file:$base/config/connect-log4j.properties -Dlog4j2.configurationFile=$base/config/connect-log4j2.properties}
heap=${KAFKA_HEAP_OPTS:--Xmx512M}
perf=${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}

# Word splitting of the *_OPTS variables is intended, as in kafka-run-class.sh.
# shellcheck disable=SC2086
exec "$java" $heap $perf $log4j -cp "$base/libs/*" ${KAFKA_OPTS:-} \
	org.apache.kafka.tools.ProducerPerformance "$@"
