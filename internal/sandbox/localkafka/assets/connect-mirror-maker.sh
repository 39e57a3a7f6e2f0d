#!/usr/bin/env bash
# connect-mirror-maker.sh mm2.properties [--clusters NAME ...]
#
# Starts MirrorMaker 2 in dedicated mode, as Kafka's own bin/connect-mirror-maker.sh
# (kafka-run-class.sh -name mirrorMaker ...) does: same arguments, same
# environment (KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_LOG4J_OPTS,
# KAFKA_OPTS, JAVA_HOME), classpath <base>/libs/*.
set -eu

if [ $# -lt 1 ]; then
	echo "USAGE: $0 [-daemon] mm2.properties [--clusters NAME ...]" >&2
	exit 1
fi

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
heap=${KAFKA_HEAP_OPTS:--Xms256M -Xmx2G}
perf=${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}

# Word splitting of the *_OPTS variables is intended, as in kafka-run-class.sh.
# shellcheck disable=SC2086
exec "$java" $heap $perf $log4j -cp "$base/libs/*" ${KAFKA_OPTS:-} \
	org.apache.kafka.connect.mirror.MirrorMaker "$@"
