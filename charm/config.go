package charm

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/kafkaclient"
	"mirrormaker-k8s/internal/mm2"
)

// ConfigError is an option the user must fix. The charm blocks on it rather than failing the
// hook: retrying cannot help until `juju config` changes.
type ConfigError struct {
	Option string
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid config: %s: %s", e.Option, e.Reason)
}

// config is the charm's validated configuration.
type config struct {
	settings    mm2.Settings
	sourceAlias string
	targetAlias string
	heapSize    string
	// metricsInterval is the migration exporter's time between two measurements, in seconds.
	metricsInterval int
	external        externalSource
	// sourceCA and targetCA are Juju secret URIs of a CA that overrides what the relation (or
	// source-credentials) says: Charmed Kafka 3 sends the word "enabled" instead of its CA, and a
	// private CA cannot be trusted without it.
	sourceCA, targetCA string
}

// externalSource is a source cluster that Juju does not manage, given by the source-* options.
type externalSource struct {
	bootstrap   []string
	protocol    string
	mechanism   string
	credentials string // Juju secret URI
}

// alias is the name MM2 gives the side's cluster (source-alias, target-alias).
func (c config) alias(s Side) string {
	if s == Source {
		return c.sourceAlias
	}
	return c.targetAlias
}

// ca is the Juju secret URI of the CA the side's <side>-tls-ca option overrides, or "".
func (c config) ca(s Side) string {
	if s == Source {
		return c.sourceCA
	}
	return c.targetCA
}

func (e externalSource) configured() bool {
	return len(e.bootstrap) > 0 || e.credentials != ""
}

var (
	aliasPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	heapPattern  = regexp.MustCompile(`^[1-9][0-9]*[kKmMgG]$`)
)

// parseConfig turns config-get's answer into the charm's configuration in two steps: decode
// each option into its Go type (options), then validate the values. It returns the first
// problem, in the order of config.yaml, so the status always names the same option for the same
// input; a value of the wrong type is that option's problem, found in its turn.
func parseConfig(raw map[string]any) (config, error) {
	return decodeOptions(raw).validate()
}

// options is every option as config-get gives it, decoded into Go types but not yet checked.
// Options whose value had the wrong type hold their zero value, and typeErrs says why.
type options struct {
	sourceBootstrapServers, sourceSecurityProtocol, sourceSASLMechanism string
	sourceCredentials, sourceTLSCA                                      string
	sourceAlias, targetAlias, targetTLSCA                               string

	topics, topicsExclude, groups, groupsExclude, replicationPolicy string
	tasksMax, replicationFactor, internalReplicationFactor          int
	syncGroupOffsets, syncTopicConfigs, syncTopicACLs               bool
	exactlyOnce, compression                                        string
	offsetFlushInterval, checkpointInterval                         int
	syncGroupOffsetsInterval, refreshTopicsInterval                 int
	refreshGroupsInterval, syncTopicConfigsInterval, offsetLagMax   int

	heapSize, logLevel string
	metricsInterval    int

	typeErrs map[string]string // option name -> why its value is not of the option's type
}

// decodeOptions is step one of parseConfig: types only, no judgement of the values.
func decodeOptions(raw map[string]any) options {
	d := decoder{raw: raw, errs: map[string]string{}}
	return options{
		sourceBootstrapServers:    d.str("source-bootstrap-servers"),
		sourceSecurityProtocol:    d.str("source-security-protocol"),
		sourceSASLMechanism:       d.str("source-sasl-mechanism"),
		sourceCredentials:         d.str("source-credentials"),
		sourceTLSCA:               d.str("source-tls-ca"),
		sourceAlias:               d.str("source-alias"),
		targetAlias:               d.str("target-alias"),
		targetTLSCA:               d.str("target-tls-ca"),
		topics:                    d.str("topics"),
		topicsExclude:             d.str("topics-exclude"),
		groups:                    d.str("groups"),
		groupsExclude:             d.str("groups-exclude"),
		replicationPolicy:         d.str("replication-policy"),
		tasksMax:                  d.integer("tasks-max"),
		replicationFactor:         d.integer("replication-factor"),
		internalReplicationFactor: d.integer("internal-replication-factor"),
		syncGroupOffsets:          d.boolean("sync-group-offsets"),
		syncTopicConfigs:          d.boolean("sync-topic-configs"),
		syncTopicACLs:             d.boolean("sync-topic-acls"),
		exactlyOnce:               d.str("exactly-once"),
		compression:               d.str("compression"),
		offsetFlushInterval:       d.integer("offset-flush-interval"),
		checkpointInterval:        d.integer("checkpoint-interval"),
		syncGroupOffsetsInterval:  d.integer("sync-group-offsets-interval"),
		refreshTopicsInterval:     d.integer("refresh-topics-interval"),
		refreshGroupsInterval:     d.integer("refresh-groups-interval"),
		syncTopicConfigsInterval:  d.integer("sync-topic-configs-interval"),
		offsetLagMax:              d.integer("offset-lag-max"),
		heapSize:                  d.str("heap-size"),
		logLevel:                  d.str("log-level"),
		metricsInterval:           d.integer("metrics-interval"),
		typeErrs:                  d.errs,
	}
}

// decoder reads config-get's JSON values, noting each option whose value has the wrong type.
type decoder struct {
	raw  map[string]any
	errs map[string]string
}

// str is a string option; unset (or null) is "".
func (d *decoder) str(name string) string {
	v, ok := d.raw[name]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		d.errs[name] = fmt.Sprintf("want a string, got %v", v)
	}
	return s
}

// integer is an int option.
func (d *decoder) integer(name string) int {
	v, ok := d.raw[name]
	if !ok {
		d.errs[name] = "missing"
		return 0
	}
	n, ok := wholeNumber(v)
	if !ok {
		d.errs[name] = fmt.Sprintf("want an integer, got %v", v)
		return 0
	}
	return int(n)
}

// wholeNumber reads an integer option or action parameter: Juju hands JSON numbers over as
// float64 (and YAML ones as int).
func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	}
	return 0, false
}

func (d *decoder) boolean(name string) bool {
	b, ok := d.raw[name].(bool)
	if !ok {
		d.errs[name] = fmt.Sprintf("want true or false, got %v", d.raw[name])
	}
	return b
}

// validate is step two of parseConfig: every value checked, option by option in the order of
// config.yaml, into the configuration the charm runs on.
func (o options) validate() (config, error) {
	v := validator{typeErrs: o.typeErrs}
	var c config
	c.external, c.sourceCA = o.validateSource(&v)
	c.sourceAlias = v.alias("source-alias", o.sourceAlias)
	c.targetAlias = v.alias("target-alias", o.targetAlias)
	c.targetCA = v.secretURI("target-tls-ca", o.targetTLSCA)
	if v.err == nil && c.sourceAlias == c.targetAlias {
		v.fail("target-alias", "must differ from source-alias")
	}
	c.settings = o.validateSettings(&v)
	c.heapSize = v.str("heap-size", o.heapSize)
	if v.err == nil && !heapPattern.MatchString(c.heapSize) {
		v.fail("heap-size", fmt.Sprintf("want a size such as 512M or 2G, got %q", c.heapSize))
	}
	c.settings.LogLevel = strings.ToUpper(v.str("log-level", o.logLevel))
	if v.err == nil {
		switch c.settings.LogLevel {
		case "ERROR", "WARN", "INFO", "DEBUG", "TRACE":
		default:
			v.fail("log-level", fmt.Sprintf("want ERROR, WARN, INFO, DEBUG or TRACE, got %q", c.settings.LogLevel))
		}
	}
	// Below 5 s a measurement of a large migration could still be running when the next is due.
	c.metricsInterval = v.intMin("metrics-interval", o.metricsInterval, 5)
	return c, v.err
}

// validateSource checks the source-* options that reach a cluster outside Juju, and the
// source's CA option.
func (o options) validateSource(v *validator) (externalSource, string) {
	var e externalSource
	if s := v.str("source-bootstrap-servers", o.sourceBootstrapServers); strings.TrimSpace(s) != "" {
		eps, err := kafkaclient.ParseEndpoints(s)
		if err != nil {
			v.fail("source-bootstrap-servers", err.Error())
		}
		e.bootstrap = eps
	}
	e.protocol = v.oneOf("source-security-protocol", o.sourceSecurityProtocol, kafka.SASLPlaintext, kafka.SASLSSL)
	e.mechanism = v.oneOf("source-sasl-mechanism", o.sourceSASLMechanism, kafka.ScramSHA512, kafka.ScramSHA256, kafka.Plain)
	e.credentials = v.secretURI("source-credentials", o.sourceCredentials)
	return e, v.secretURI("source-tls-ca", o.sourceTLSCA)
}

// validateSettings checks what MM2 itself is told: what to mirror, how, and how often.
func (o options) validateSettings(v *validator) mm2.Settings {
	var s mm2.Settings
	s.Topics = v.patterns("topics", o.topics, true)
	s.TopicsExclude = v.patterns("topics-exclude", o.topicsExclude, false)
	s.Groups = v.patterns("groups", o.groups, true)
	s.GroupsExclude = v.patterns("groups-exclude", o.groupsExclude, false)
	s.ReplicationPolicy = v.oneOf("replication-policy", o.replicationPolicy, "identity", "prefix")
	s.TasksMax = v.intMin("tasks-max", o.tasksMax, 1)
	s.ReplicationFactor = v.replicationFactor("replication-factor", o.replicationFactor)
	s.InternalReplFactor = v.replicationFactor("internal-replication-factor", o.internalReplicationFactor)
	s.SyncGroupOffsets = v.boolean("sync-group-offsets", o.syncGroupOffsets)
	s.SyncTopicConfigs = v.boolean("sync-topic-configs", o.syncTopicConfigs)
	s.SyncTopicACLs = v.boolean("sync-topic-acls", o.syncTopicACLs)
	s.ExactlyOnce = v.oneOf("exactly-once", o.exactlyOnce, "disabled", "preparing", "enabled")
	s.Compression = v.oneOf("compression", o.compression, mm2.Compressions...)
	s.OffsetFlushIntervalSeconds = v.intMin("offset-flush-interval", o.offsetFlushInterval, 1)
	s.CheckpointIntervalSeconds = v.intMin("checkpoint-interval", o.checkpointInterval, 1)
	s.SyncGroupOffsetsIntervalSeconds = v.intMin("sync-group-offsets-interval", o.syncGroupOffsetsInterval, 1)
	s.RefreshTopicsIntervalSeconds = v.intMin("refresh-topics-interval", o.refreshTopicsInterval, 1)
	s.RefreshGroupsIntervalSeconds = v.intMin("refresh-groups-interval", o.refreshGroupsInterval, 1)
	s.SyncTopicConfigsIntervalSeconds = v.intMin("sync-topic-configs-interval", o.syncTopicConfigsInterval, 1)
	s.OffsetLagMax = v.intMin("offset-lag-max", o.offsetLagMax, 0)
	return s
}

// validator checks decoded values one option at a time, recording the first problem. Each
// check first reports the option's type error, if decoding found one, so problems come in the
// order options are checked whatever kind they are.
type validator struct {
	typeErrs map[string]string
	err      error
}

func (v *validator) fail(option, reason string) {
	if v.err == nil {
		v.err = &ConfigError{Option: option, Reason: reason}
	}
}

// typed reports the option's type error, if any, in its turn.
func (v *validator) typed(name string) {
	if reason, bad := v.typeErrs[name]; bad {
		v.fail(name, reason)
	}
}

func (v *validator) str(name, s string) string {
	v.typed(name)
	return s
}

func (v *validator) boolean(name string, b bool) bool {
	v.typed(name)
	return b
}

// secretURI checks a secret option: empty when unset, else a Juju secret URI.
func (v *validator) secretURI(name, s string) string {
	s = strings.TrimSpace(v.str(name, s))
	if s != "" && !strings.HasPrefix(s, "secret:") {
		v.fail(name, "want a Juju secret URI (secret:...)")
	}
	return s
}

func (v *validator) intMin(name string, n, min int) int {
	v.typed(name)
	if n < min {
		v.fail(name, fmt.Sprintf("must be at least %d, got %d", min, n))
	}
	return n
}

func (v *validator) replicationFactor(name string, n int) int {
	v.typed(name)
	if n == 0 || n < -1 {
		v.fail(name, fmt.Sprintf("want -1 (broker default) or at least 1, got %d", n))
	}
	return n
}

func (v *validator) oneOf(name, s string, allowed ...string) string {
	s = strings.TrimSpace(v.str(name, s))
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return a
		}
	}
	v.fail(name, fmt.Sprintf("want one of %s, got %q", strings.Join(allowed, ", "), s))
	return ""
}

func (v *validator) alias(name, s string) string {
	s = v.str(name, s)
	if !aliasPattern.MatchString(s) {
		v.fail(name, fmt.Sprintf("want letters, digits, _ or -, got %q", s))
	}
	return s
}

// patterns splits a comma-separated list of Java regular expressions the way MM2 does.
func (v *validator) patterns(name, list string, required bool) []string {
	var out []string
	for _, p := range strings.Split(v.str(name, list), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if err := mm2.CheckPattern(p); err != nil {
			v.fail(name, fmt.Sprintf("%q %v", p, err))
		}
		if err := checkJavaRegex(p); err != nil {
			v.fail(name, err.Error())
		}
		out = append(out, p)
	}
	if required && len(out) == 0 {
		v.fail(name, "must name at least one pattern")
	}
	return out
}

// checkJavaRegex accepts the patterns Java's and Go's engines read alike. MirrorMaker 2 selects
// topics and groups with Java's; the charm measures, proves and cuts over with Go's the topics
// and groups it believes MM2 selected. A pattern only Java reads (lookaround, back-references,
// possessive quantifiers, atomic groups, POSIX \p{Lower}) left the charm unable to measure
// anything once mirroring had started, and one both read differently (Java's class intersection
// [a-z&&[^x]] and nested classes, which Go takes as literal characters) made it prove other
// topics than MM2 copies; both are refused here, naming the construct.
func checkJavaRegex(p string) error {
	if what := javaOnlySyntax(p); what != "" {
		return fmt.Errorf("%q uses %s, which MirrorMaker 2 (Java) and the charm's proof (Go) read differently: "+
			"write it with the syntax both share", p, what)
	}
	_, err := syntax.Parse(p, syntax.Perl)
	var se *syntax.Error
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &se):
		return fmt.Errorf("%q is not a valid regular expression: %w", p, err)
	}
	switch se.Code {
	case syntax.ErrInvalidPerlOp, syntax.ErrInvalidEscape, syntax.ErrInvalidRepeatOp, syntax.ErrInvalidNamedCapture, syntax.ErrInvalidCharRange:
		return fmt.Errorf("%q uses syntax the charm's proof (Go) does not read (%s %s): write it with the syntax Java and Go share",
			p, se.Code, se.Expr)
	}
	return fmt.Errorf("%q is not a valid regular expression: %s", p, se.Code)
}

// javaOnlySyntax names the first construct of p that Java reads and Go does not, or reads
// otherwise; "" when there is none.
func javaOnlySyntax(p string) string {
	inClass, quantified := false, false
	for i := 0; i < len(p); i++ {
		c, rest := p[i], p[i:]
		wasQuantified := quantified
		quantified = false
		switch {
		case c == '\\' && i+1 < len(p):
			if n := p[i+1]; !inClass && (n >= '1' && n <= '9' || strings.HasPrefix(p[i+1:], "k<")) {
				return "a back-reference (" + rest[:2] + ")"
			}
			i++
			if n := p[i]; (n == 'p' || n == 'P' || n == 'x') && strings.HasPrefix(p[i+1:], "{") {
				if end := strings.IndexByte(p[i:], '}'); end > 0 {
					i += end // \p{...}, \x{...}: one escape, whatever its braces hold
				}
			}
		case inClass && c == '[':
			return "a class inside a class (" + rest[:1] + ")"
		case inClass && strings.HasPrefix(rest, "&&"):
			return "a class intersection (&&)"
		case inClass && c == ']':
			inClass = false
		case inClass:
		case c == '[':
			inClass = true
			if strings.HasPrefix(p[i+1:], "^") {
				i++
			}
			if strings.HasPrefix(p[i+1:], "]") { // a leading ] is a literal in both
				i++
			}
		case strings.HasPrefix(rest, "(?=") || strings.HasPrefix(rest, "(?!") || strings.HasPrefix(rest, "(?<=") || strings.HasPrefix(rest, "(?<!"):
			return "a lookaround (" + rest[:3] + "...)"
		case strings.HasPrefix(rest, "(?>"):
			return "an atomic group ((?>...))"
		case c == '+' && wasQuantified:
			return "a possessive quantifier (" + p[i-1:i+1] + ")"
		case c == '*' || c == '+' || c == '?' || c == '}':
			quantified = true
		}
	}
	return ""
}
