#!/usr/bin/env bash
# install-kafka.sh VERSION DEST
#
# Assembles a Kafka "distribution" for the sandbox from Maven artifacts: the
# broker (kafka_2.13), MirrorMaker 2 (connect-mirror), a logging binding and the
# Prometheus JMX exporter agent and Kafka's tools (for the benchmarks' producer perf test), all
# resolved transitively into DEST/libs, plus DEST/bin/connect-mirror-maker.sh and
# DEST/bin/kafka-producer-perf-test.sh, launchers with the flags of Kafka's own (through
# DEST/bin/kafka-run-class.sh, as Kafka's),
# and DEST/config/connect-log4j{,2}.properties, its default logging (stdout).
#
# Idempotent: once DEST/.complete exists this exits at once. The work happens in
# DEST.tmp, renamed to DEST only when everything is in place, so a failed run
# leaves nothing half-made behind.
set -euo pipefail

usage() {
	echo "usage: $0 VERSION DEST   (e.g. $0 3.9.1 .cache/kafka-3.9.1)" >&2
	exit 2
}
[ $# -eq 2 ] || usage
version=$1
dest=${2%/}
# Absolute, so mvn (which resolves paths against the pom's dir) writes where we mean.
case $dest in /*) ;; *) dest="$PWD/$dest" ;; esac
case $version in
[0-9]*.[0-9]*.[0-9]*) ;;
*) echo "install-kafka: bad version '$version'" >&2; usage ;;
esac

if [ -e "$dest/.complete" ]; then
	exit 0
fi

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
assets="$here/../internal/sandbox/localkafka/assets"
launcher="$assets/connect-mirror-maker.sh"
[ -r "$launcher" ] || { echo "install-kafka: cannot find launcher $launcher" >&2; exit 1; }
command -v mvn >/dev/null || { echo "install-kafka: cannot find mvn on PATH" >&2; exit 1; }

jmx_version=1.0.1
major=${version%%.*}
if [ "$major" -ge 4 ]; then
	# Kafka 4 logs through log4j2. The broker and Connect still use the slf4j 1.7
	# API, so the binding is log4j-slf4j-impl (slf4j 1.x), not log4j-slf4j2-impl,
	# at the log4j2 version Kafka 4.1 builds with (versions.log4j2 = 2.24.3); the
	# same set its release tarball ships. log4j-1.2-api lets old log4j.properties
	# style setups degrade gracefully, as in Kafka's own libs/.
	log4j2_version=2.24.3
	logging_artifacts="org.apache.logging.log4j:log4j-api:$log4j2_version
org.apache.logging.log4j:log4j-core:$log4j2_version
org.apache.logging.log4j:log4j-slf4j-impl:$log4j2_version
org.apache.logging.log4j:log4j-1.2-api:$log4j2_version"
else
	logging_artifacts="org.slf4j:slf4j-reload4j:1.7.36
ch.qos.reload4j:reload4j:1.2.25"
fi
artifacts="org.apache.kafka:kafka_2.13:$version
org.apache.kafka:connect-mirror:$version
org.apache.kafka:kafka-tools:$version
$logging_artifacts
io.prometheus.jmx:jmx_prometheus_javaagent:$jmx_version"

# Two concurrent installs of the same DEST (parallel make) take turns; the
# second finds .complete and stops.
mkdir -p "$(dirname "$dest")"
exec 9>"$dest.lock"
flock 9
if [ -e "$dest/.complete" ]; then
	exit 0
fi

tmp="$dest.tmp"
rm -rf "$tmp"
mkdir -p "$tmp/libs" "$tmp/bin" "$tmp/config"
work=$(mktemp -d)
trap 'rm -rf "$work" "$tmp"' EXIT

{
	cat <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>mirrormaker-k8s.sandbox</groupId>
  <artifactId>kafka-dist</artifactId>
  <version>$version</version>
  <packaging>pom</packaging>
  <dependencies>
POM
	while IFS=: read -r g a v; do
		printf '    <dependency><groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version></dependency>\n' "$g" "$a" "$v"
	done <<<"$artifacts"
	cat <<POM
  </dependencies>
</project>
POM
} >"$work/pom.xml"

echo "install-kafka: resolving Kafka $version into $dest" >&2
if ! mvn -B -q -f "$work/pom.xml" dependency:copy-dependencies \
	-DincludeScope=runtime -DoutputDirectory="$tmp/libs" >"$work/mvn.log" 2>&1; then
	echo "install-kafka: cannot resolve Kafka $version; artifacts requested:" >&2
	sed 's/^/  /' <<<"$artifacts" >&2
	echo "install-kafka: mvn said:" >&2
	grep -E '\[ERROR\]|Could not|not found|Failed' "$work/mvn.log" >&2 || tail -n 40 "$work/mvn.log" >&2
	exit 1
fi

# Check every requested artifact really landed, naming any that did not.
missing=""
while IFS=: read -r g a v; do
	[ -f "$tmp/libs/$a-$v.jar" ] || missing="$missing $g:$a:$v"
done <<<"$artifacts"
if [ -n "$missing" ]; then
	echo "install-kafka: artifacts missing after resolution:$missing" >&2
	tail -n 40 "$work/mvn.log" >&2
	exit 1
fi

# The workload's KAFKA_OPTS names this exact path (/opt/kafka/libs/...).
cp "$tmp/libs/jmx_prometheus_javaagent-$jmx_version.jar" "$tmp/libs/jmx_prometheus_javaagent.jar"
install -m 0755 "$launcher" "$tmp/bin/connect-mirror-maker.sh"
install -m 0755 "$assets/kafka-producer-perf-test.sh" "$assets/kafka-run-class.sh" "$tmp/bin/"
install -m 0644 "$assets/connect-log4j.properties" "$assets/connect-log4j2.properties" "$tmp/config/"
echo "$version" >"$tmp/VERSION"

# The MM2 JVM runs as user kafka: everything world-readable, dirs traversable.
chmod -R a+rX "$tmp"
touch "$tmp/.complete"
chmod a+r "$tmp/.complete"

rm -rf "$dest"
mv "$tmp" "$dest"
chmod a+rx "$dest"
echo "install-kafka: Kafka $version ready in $dest ($(ls "$dest/libs" | wc -l) jars)" >&2
