package mm2

import (
	"fmt"
	"strings"
)

// logPattern is Kafka Connect's own (config/connect-log4j.properties): the connector context
// tells which connector and task a line comes from.
const logPattern = "[%d] %p %X{connector.context}%m (%c:%L)%n"

// quietLoggers log at INFO what an operator rarely needs: every client's full config dump,
// version banners, plugin scanning and the REST server's internals.
var quietLoggers = []string{
	"org.apache.kafka.clients.admin.AdminClientConfig",
	"org.apache.kafka.clients.consumer.ConsumerConfig",
	"org.apache.kafka.clients.producer.ProducerConfig",
	"org.apache.kafka.common.utils.AppInfoParser",
	"org.apache.kafka.connect.runtime.isolation",
	"org.eclipse.jetty",
	"org.glassfish.jersey",
	"org.reflections",
}

// quietLevel is WARN, unless the root level is already stricter.
func quietLevel(level string) string {
	if level == "ERROR" {
		return "ERROR"
	}
	return "WARN"
}

// renderLog4j is for Kafka 3.x, whose MM2 logs through reload4j (log4j 1.2 syntax).
func renderLog4j(level string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", header)
	fmt.Fprintf(&b, "# Kafka 3.x (reload4j). Everything goes to stdout, where Pebble collects it.\n")
	fmt.Fprintf(&b, "log4j.rootLogger=%s, stdout\n", level)
	b.WriteString("log4j.appender.stdout=org.apache.log4j.ConsoleAppender\n")
	b.WriteString("log4j.appender.stdout.Target=System.out\n")
	b.WriteString("log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\n")
	fmt.Fprintf(&b, "log4j.appender.stdout.layout.ConversionPattern=%s\n", logPattern)
	for _, l := range quietLoggers {
		fmt.Fprintf(&b, "log4j.logger.%s=%s\n", l, quietLevel(level))
	}
	return []byte(b.String())
}

// renderLog4j2 is for Kafka 4.x, whose MM2 logs through log4j2; Kafka ships its own log4j2
// configuration as YAML, so the jackson YAML module it needs is on the classpath.
func renderLog4j2(level string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", header)
	b.WriteString("# Kafka 4.x (log4j2). Everything goes to stdout, where Pebble collects it.\n")
	b.WriteString("Configuration:\n")
	b.WriteString("  name: mirrormaker\n")
	b.WriteString("  Appenders:\n")
	b.WriteString("    Console:\n")
	b.WriteString("      name: STDOUT\n")
	b.WriteString("      target: SYSTEM_OUT\n")
	b.WriteString("      PatternLayout:\n")
	fmt.Fprintf(&b, "        pattern: %q\n", logPattern)
	b.WriteString("  Loggers:\n")
	b.WriteString("    Root:\n")
	fmt.Fprintf(&b, "      level: %s\n", level)
	b.WriteString("      AppenderRef:\n")
	b.WriteString("        - ref: STDOUT\n")
	b.WriteString("    Logger:\n")
	for _, l := range quietLoggers {
		fmt.Fprintf(&b, "      - name: %s\n", l)
		fmt.Fprintf(&b, "        level: %s\n", quietLevel(level))
	}
	return []byte(b.String())
}
