#!/usr/bin/env bash
# connect-mirror-maker.sh mm2.properties [--clusters NAME ...]
#
# Starts MirrorMaker 2 in dedicated mode, as Kafka's own bin/connect-mirror-maker.sh
# (kafka-run-class.sh -name mirrorMaker ...) does: same arguments, same
# environment and heap default (-Xms256M -Xmx2G).
set -eu

if [ $# -lt 1 ]; then
	echo "USAGE: $0 [-daemon] mm2.properties [--clusters NAME ...]" >&2
	exit 1
fi

export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256M -Xmx2G}
exec "$(dirname "$(readlink -f "$0")")/kafka-run-class.sh" org.apache.kafka.connect.mirror.MirrorMaker "$@"
