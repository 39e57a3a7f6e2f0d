package mm2

import (
	"fmt"
	"strings"
	"unicode/utf16"

	"mirrormaker-k8s/internal/kafka"
)

// This file holds the two escapings every credential goes through on its way to Kafka:
//
//  1. java.util.Properties.load, which reads mm2.properties (as ISO-8859-1, from an InputStream)
//     and the secrets file (as UTF-8, from a Reader, in FileConfigProvider);
//  2. Kafka's JaasConfig, which tokenizes sasl.jaas.config with java.io.StreamTokenizer, '"'
//     being a quote character.
//
// Writing only printable ASCII and \uXXXX escapes makes the files mean the same under either
// charset, so one escaping serves both files.

// propertiesKey escapes s so that java.util.Properties.load reads it back as the key s.
func propertiesKey(s string) string {
	return escapeProperties(s, true)
}

// propertiesValue escapes s so that java.util.Properties.load reads it back as the value s.
// Unlike Properties.store it leaves '=', ':', '#' and '!' alone: they are only special in keys
// and at the start of a line, and a value never starts one. This keeps ${file:...} references
// readable.
func propertiesValue(s string) string {
	return escapeProperties(s, false)
}

func escapeProperties(s string, key bool) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == ' ' && (key || i == 0):
			// load() skips whitespace before a value and ends a key at whitespace.
			b.WriteString(`\ `)
		case key && (r == '=' || r == ':' || r == '#' || r == '!'):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			// Java strings are UTF-16: a rune outside the BMP is two \u escapes (a surrogate
			// pair), which load() joins back into one code point.
			for _, u := range utf16.Encode([]rune{r}) {
				fmt.Fprintf(&b, `\u%04X`, u)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// jaasQuote returns s as a double-quoted JAAS option value that Kafka's JaasConfig (a
// java.io.StreamTokenizer) reads back as s.
//
// Inside quotes StreamTokenizer ends the string at an unescaped '"', CR or LF, and reads a
// backslash as an escape: \\, \", \n and \r are what we need. '{' is written as \{, which the
// tokenizer reads as '{': that way the quoted text never contains "${", so Kafka's
// ConfigTransformer, which substitutes ${provider:path:key} in configuration values and has no
// escape syntax of its own, can never mistake a password for a reference. It matters because
// the value is transformed more than once: MirrorMakerConfig.workerConfig transforms the worker
// properties, then AbstractConfig (KIP-421) resolves them again when DistributedConfig is built,
// because config.providers is copied into them; connector configs likewise carry
// config.providers into MirrorConnectorConfig after the worker has transformed them.
// A backslash is never followed by a digit, which StreamTokenizer would read as an octal escape.
func jaasQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '{':
			b.WriteString(`\{`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// loginModules maps a SASL mechanism to the JAAS login module Kafka clients need for it.
var loginModules = map[string]string{
	kafka.ScramSHA512: "org.apache.kafka.common.security.scram.ScramLoginModule",
	kafka.ScramSHA256: "org.apache.kafka.common.security.scram.ScramLoginModule",
	kafka.Plain:       "org.apache.kafka.common.security.plain.PlainLoginModule",
}

// jaasConfig is the sasl.jaas.config value that logs in to c. It holds the password, so it
// only ever goes into the secrets file.
func jaasConfig(c Cluster) string {
	return loginModules[c.Mechanism] + " required username=" + jaasQuote(c.Username) +
		" password=" + jaasQuote(c.Password) + ";"
}
