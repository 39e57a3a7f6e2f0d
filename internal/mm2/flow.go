package mm2

import (
	"fmt"
	"regexp"
	"strings"
)

// Filter is MM2's topic and group selection, as the charm renders it into
// mm2.properties (topics, topics.exclude, groups, groups.exclude). Each list
// is of Java regular expressions that must match a whole name, as MM2 joins
// them with "|" and calls Pattern.matcher(name).matches(). An empty include
// list matches nothing, as in MM2; DefaultFilter gives MM2's defaults.
// The expressions are compiled as Go (RE2) regexps: the common subset of the
// two syntaxes is all the charm accepts.
type Filter struct {
	Topics, TopicsExclude []string
	Groups, GroupsExclude []string
}

// DefaultFilter is MM2 3.9's default selection (apache/kafka connect/mirror:
// DefaultTopicFilter, DefaultGroupFilter), for callers
// that leave the choice to MM2.
func DefaultFilter() Filter {
	return Filter{
		Topics:        []string{".*"},
		TopicsExclude: []string{`.*[\-\.]internal`, `.*\.replica`, `__.*`},
		Groups:        []string{".*"},
		GroupsExclude: []string{"console-consumer-.*", "connect-.*", "__.*"},
	}
}

// Flow is the one replication flow being measured: source alias -> target
// alias, with its replication policy and filter, as the charm configured MM2.
type Flow struct {
	// SourceAlias names the source cluster in MM2 ("old"): it appears in the
	// internal topic names, the Connect offsets keys and, under the prefix
	// policy, the target topic names.
	SourceAlias string
	// TargetAlias ("new") is needed to recognise topics that came from the
	// target, which MM2 never replicates back (its cycle check).
	TargetAlias string
	// Prefix selects DefaultReplicationPolicy (topic t becomes
	// "<SourceAlias>.t" on the target); false is IdentityReplicationPolicy.
	Prefix bool
	// ReadCommitted says MM2's source consumer reads with
	// isolation.level=read_committed (the charm's exactly-once mode): it then
	// skips aborted transactions rather than copying them, which changes
	// how many records are still to copy (see settleTails).
	ReadCommitted bool
	Filter        Filter
}

// NewFlow is the flow MM2 runs when the charm renders s for these aliases:
// the one place that turns the charm's settings into MM2's naming and
// semantics. Render writes mm2.properties from it (the policy class, the
// separator, the isolation level) and the migration package measures with
// it, so what the charm measures is what MM2 was told.
func NewFlow(sourceAlias, targetAlias string, s Settings) Flow {
	return Flow{
		SourceAlias: sourceAlias,
		TargetAlias: targetAlias,
		Prefix:      s.ReplicationPolicy == PolicyPrefix,
		// Always: the charm never copies records a source transaction aborted.
		ReadCommitted: true,
		Filter: Filter{
			Topics: s.Topics, TopicsExclude: s.TopicsExclude,
			Groups: s.Groups, GroupsExclude: s.GroupsExclude,
		},
	}
}

// Flow is the flow Render writes for in.
func (in Input) Flow() Flow { return NewFlow(in.Source.Alias, in.Target.Alias, in.Settings) }

// isolationLevel is the source consumer's isolation.level.
func (f Flow) isolationLevel() string {
	if f.ReadCommitted {
		return "read_committed"
	}
	return "read_uncommitted"
}

// policyClass is the replication.policy.class MM2 is given.
func (f Flow) policyClass() string {
	if f.Prefix {
		return "org.apache.kafka.connect.mirror.DefaultReplicationPolicy"
	}
	return "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"
}

// separator is the replication policy's default separator; the charm does
// not change replication.policy.separator.
const separator = "."

// heartbeatsTopic is MM2's heartbeats topic, replicated whatever the filter.
const heartbeatsTopic = "heartbeats"

// ConnectOffsetsTopic is the Connect offsets topic of the flow, on the
// target: where MirrorSourceConnector records its progress.
func (f Flow) ConnectOffsetsTopic() string { return "mm2-offsets." + f.SourceAlias + ".internal" }

// CheckpointsTopic is the flow's checkpoints topic, on the target.
func (f Flow) CheckpointsTopic() string { return f.SourceAlias + ".checkpoints.internal" }

// TargetTopic is the name source topic t has on the target. IdentityReplicationPolicy keeps
// names, except that of a topic ending in "heartbeats", which it prefixes as
// DefaultReplicationPolicy does (its formatRemoteTopic defers to it there).
func (f Flow) TargetTopic(t string) string {
	if f.Prefix || strings.HasSuffix(t, heartbeatsTopic) {
		return f.SourceAlias + separator + t
	}
	return t
}

// Matcher is a compiled Filter.
type Matcher struct {
	topics, topicsExclude, groups, groupsExclude *regexp.Regexp
}

// Compile turns the lists into whole-name matchers. A list becomes one
// alternation, "^(?:a|b)$", as MM2 joins its list into one pattern; nil
// stands for the empty list, which matches nothing.
func (f Filter) Compile() (*Matcher, error) {
	var m Matcher
	for _, l := range []struct {
		name string
		list []string
		into **regexp.Regexp
	}{
		{"topics", f.Topics, &m.topics},
		{"topics.exclude", f.TopicsExclude, &m.topicsExclude},
		{"groups", f.Groups, &m.groups},
		{"groups.exclude", f.GroupsExclude, &m.groupsExclude},
	} {
		var parts []string
		for _, p := range l.list {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		if len(parts) == 0 {
			continue
		}
		re, err := regexp.Compile("^(?:" + strings.Join(parts, "|") + ")$")
		if err != nil {
			return nil, fmt.Errorf("cannot compile %s filter: %w", l.name, err)
		}
		*l.into = re
	}
	return &m, nil
}

func matches(re *regexp.Regexp, s string) bool { return re != nil && re.MatchString(s) }

// Group reports whether MM2 checkpoints Group (DefaultGroupFilter).
func (m *Matcher) Group(g string) bool {
	return matches(m.groups, g) && !matches(m.groupsExclude, g)
}

// Mirrored reports whether MirrorSourceConnector replicates source topic t
// in flow f: (the filter accepts it, or it is a heartbeats topic) and it is
// not internal and did not come from the target (MirrorSourceConnector.
// shouldReplicateTopic in MM2 3.x).
func (m *Matcher) Mirrored(f Flow, t string) bool {
	accepted := matches(m.topics, t) && !matches(m.topicsExclude, t)
	if !accepted && !f.isHeartbeats(t) {
		return false
	}
	return !isInternalTopic(t) && !f.isCycle(t)
}

// isInternalTopic is ReplicationPolicy.isInternalTopic: Kafka's own topics
// ("__" or "." first) and Connect's and MM2's (".internal" or "-internal"
// last) are never replicated, whatever the filter.
func isInternalTopic(t string) bool {
	kafka := strings.HasPrefix(t, "__") || strings.HasPrefix(t, ".")
	connect := strings.HasSuffix(t, ".internal") || strings.HasSuffix(t, "-internal") // MM2's own among them
	return kafka || connect
}

// topicSource is the cluster a topic name says it came from, "" if none.
// Under DefaultReplicationPolicy any name with a separator is remote; under
// IdentityReplicationPolicy only heartbeats topics are.
func (f Flow) topicSource(t string) string {
	if !f.Prefix && !isOriginalHeartbeats(t) {
		return ""
	}
	// Java's split drops trailing empty parts: "a." and "a.." are local.
	i := strings.Index(t, separator)
	if i < 0 || strings.Trim(t[i:], separator) == "" {
		return ""
	}
	return t[:i]
}

// isOriginalHeartbeats is IdentityReplicationPolicy.looksLikeHeartbeat.
func isOriginalHeartbeats(t string) bool { return strings.HasSuffix(t, heartbeatsTopic) }

// upstreamTopic strips one hop of remote naming, "" when t is not remote.
func (f Flow) upstreamTopic(t string) string {
	src := f.topicSource(t)
	if src == "" {
		return ""
	}
	return t[len(src)+len(separator):]
}

// isHeartbeats is ReplicationPolicy.isHeartbeatsTopic: the original topic,
// after every hop, is "heartbeats".
func (f Flow) isHeartbeats(t string) bool {
	for {
		up := f.upstreamTopic(t)
		if up == "" {
			return t == heartbeatsTopic
		}
		t = up
	}
}

// isCycle is MirrorSourceConnector.isCycle: a topic that, at any hop, came
// from the target cluster.
func (f Flow) isCycle(t string) bool {
	for {
		src := f.topicSource(t)
		switch {
		case src == "":
			return false
		case src == f.TargetAlias:
			return true
		}
		up := f.upstreamTopic(t)
		if up == t {
			return false
		}
		t = up
	}
}
