package charm

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"

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
	external    externalSource
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

// parseConfig validates every option and returns the first problem, in the order of config.yaml,
// so the status always names the same option for the same input.
func parseConfig(raw map[string]any) (config, error) {
	r := reader{raw: raw}
	var c config
	s := &c.settings

	if v := r.str("source-bootstrap-servers"); strings.TrimSpace(v) != "" {
		eps, err := kafkaclient.ParseEndpoints(v)
		if err != nil {
			r.fail("source-bootstrap-servers", err.Error())
		}
		c.external.bootstrap = eps
	}
	c.external.protocol = r.oneOf("source-security-protocol", mm2.SASLPlaintext, mm2.SASLSSL)
	c.external.mechanism = r.oneOf("source-sasl-mechanism", mm2.ScramSHA512, mm2.ScramSHA256, mm2.Plain)
	c.external.credentials = r.secretURI("source-credentials")
	c.sourceCA = r.secretURI("source-tls-ca")
	c.sourceAlias = r.alias("source-alias")
	c.targetAlias = r.alias("target-alias")
	c.targetCA = r.secretURI("target-tls-ca")
	if r.err == nil && c.sourceAlias == c.targetAlias {
		r.fail("target-alias", "must differ from source-alias")
	}
	s.Topics = r.patterns("topics", true)
	s.TopicsExclude = r.patterns("topics-exclude", false)
	s.Groups = r.patterns("groups", true)
	s.GroupsExclude = r.patterns("groups-exclude", false)
	s.ReplicationPolicy = r.oneOf("replication-policy", "identity", "prefix")
	s.TasksMax = r.intMin("tasks-max", 1)
	s.ReplicationFactor = r.replicationFactor("replication-factor")
	s.InternalReplFactor = r.replicationFactor("internal-replication-factor")
	s.SyncGroupOffsets = r.boolean("sync-group-offsets")
	s.SyncTopicConfigs = r.boolean("sync-topic-configs")
	s.SyncTopicACLs = r.boolean("sync-topic-acls")
	s.ExactlyOnce = r.oneOf("exactly-once", "disabled", "preparing", "enabled")
	s.OffsetFlushIntervalSeconds = r.intMin("offset-flush-interval", 1)
	s.CheckpointIntervalSeconds = r.intMin("checkpoint-interval", 1)
	s.SyncGroupOffsetsIntervalSeconds = r.intMin("sync-group-offsets-interval", 1)
	s.RefreshTopicsIntervalSeconds = r.intMin("refresh-topics-interval", 1)
	s.RefreshGroupsIntervalSeconds = r.intMin("refresh-groups-interval", 1)
	s.SyncTopicConfigsIntervalSeconds = r.intMin("sync-topic-configs-interval", 1)
	s.OffsetLagMax = r.intMin("offset-lag-max", 0)
	c.heapSize = r.str("heap-size")
	if r.err == nil && !heapPattern.MatchString(c.heapSize) {
		r.fail("heap-size", fmt.Sprintf("want a size such as 512M or 2G, got %q", c.heapSize))
	}
	s.LogLevel = strings.ToUpper(r.str("log-level"))
	if r.err == nil {
		switch s.LogLevel {
		case "ERROR", "WARN", "INFO", "DEBUG", "TRACE":
		default:
			r.fail("log-level", fmt.Sprintf("want ERROR, WARN, INFO, DEBUG or TRACE, got %q", s.LogLevel))
		}
	}
	return c, r.err
}

// reader pulls typed options out of config-get's JSON, recording the first error.
type reader struct {
	raw map[string]any
	err error
}

func (r *reader) fail(option, reason string) {
	if r.err == nil {
		r.err = &ConfigError{Option: option, Reason: reason}
	}
}

func (r *reader) str(name string) string {
	v, ok := r.raw[name]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		r.fail(name, fmt.Sprintf("want a string, got %v", v))
	}
	return s
}

// secretURI reads a secret option: empty when unset, else a Juju secret URI.
func (r *reader) secretURI(name string) string {
	v := strings.TrimSpace(r.str(name))
	if v != "" && !strings.HasPrefix(v, "secret:") {
		r.fail(name, "want a Juju secret URI (secret:...)")
	}
	return v
}

func (r *reader) integer(name string) int {
	v, ok := r.raw[name]
	if !ok {
		r.fail(name, "missing")
		return 0
	}
	f, ok := v.(float64)
	if !ok || f != float64(int(f)) {
		r.fail(name, fmt.Sprintf("want an integer, got %v", v))
		return 0
	}
	return int(f)
}

func (r *reader) intMin(name string, min int) int {
	n := r.integer(name)
	if n < min {
		r.fail(name, fmt.Sprintf("must be at least %d, got %d", min, n))
	}
	return n
}

func (r *reader) replicationFactor(name string) int {
	n := r.integer(name)
	if n == 0 || n < -1 {
		r.fail(name, fmt.Sprintf("want -1 (broker default) or at least 1, got %d", n))
	}
	return n
}

func (r *reader) boolean(name string) bool {
	b, ok := r.raw[name].(bool)
	if !ok {
		r.fail(name, fmt.Sprintf("want true or false, got %v", r.raw[name]))
	}
	return b
}

func (r *reader) oneOf(name string, allowed ...string) string {
	v := strings.TrimSpace(r.str(name))
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	r.fail(name, fmt.Sprintf("want one of %s, got %q", strings.Join(allowed, ", "), v))
	return ""
}

func (r *reader) alias(name string) string {
	v := r.str(name)
	if !aliasPattern.MatchString(v) {
		r.fail(name, fmt.Sprintf("want letters, digits, _ or -, got %q", v))
	}
	return v
}

// patterns splits a comma-separated list of Java regular expressions the way MM2 does.
func (r *reader) patterns(name string, required bool) []string {
	var out []string
	for _, p := range strings.Split(r.str(name), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if strings.Contains(p, "${") {
			// MM2 would take it for a config provider reference.
			r.fail(name, fmt.Sprintf("%q must not contain ${", p))
		}
		if err := checkJavaRegex(p); err != nil {
			r.fail(name, err.Error())
		}
		out = append(out, p)
	}
	if required && len(out) == 0 {
		r.fail(name, "must name at least one pattern")
	}
	return out
}

// checkJavaRegex rejects patterns that are broken in any regex dialect (unbalanced parentheses
// or brackets, a dangling repetition, a trailing backslash). Go's RE2 lacks some Java syntax
// (lookaround, back-references, possessive quantifiers), so those errors are let through for
// MM2's own parser rather than refusing a pattern Java accepts.
func checkJavaRegex(p string) error {
	_, err := syntax.Parse(p, syntax.Perl)
	var se *syntax.Error
	if err == nil || !errors.As(err, &se) {
		return nil
	}
	switch se.Code {
	case syntax.ErrInvalidPerlOp, syntax.ErrInvalidEscape, syntax.ErrInvalidRepeatOp, syntax.ErrInvalidNamedCapture:
		return nil
	}
	return fmt.Errorf("%q is not a valid regular expression: %s", p, se.Code)
}
