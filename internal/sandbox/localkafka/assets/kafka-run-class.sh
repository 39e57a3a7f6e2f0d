#!/usr/bin/env bash
# kafka-run-class.sh CLASS [ARGS...]
#
# Runs a Kafka main class as Kafka's own bin/kafka-run-class.sh does: the same
# environment (KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_LOG4J_OPTS,
# KAFKA_OPTS, JAVA_HOME), classpath <base>/libs/*. The launchers beside it set
# their own heap default (KAFKA_HEAP_OPTS) and call it, as Kafka's do.
set -eu

# The base dir is the parent of the directory holding this script, symlinks resolved.
self=$(readlink -f "$0")
base=$(cd "$(dirname "$self")/.." && pwd -P)

if [ -n "${JAVA_HOME:-}" ]; then
	java="$JAVA_HOME/bin/java"
else
	java=java
fi

# Like Kafka's script, log with the config shipped in <base>/config unless told
# otherwise; both flags are given and each Kafka (3.x reload4j, 4.x log4j2)
# reads its own.
log4j=${KAFKA_LOG4J_OPTS:--Dlog4j.configuration=file:$base/config/connect-log4j.properties -Dlog4j2.configurationFile=$base/config/connect-log4j2.properties}
heap=${KAFKA_HEAP_OPTS:--Xmx256M}
perf=${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}

# Word splitting of the *_OPTS variables is intended, as in Kafka's script.
# shellcheck disable=SC2086
exec "$java" $heap $perf $log4j -cp "$base/libs/*" ${KAFKA_OPTS:-} "$@"
