// Package mm2 renders MirrorMaker 2's configuration. It is a pure function of its inputs: it
// knows nothing of Juju or Pebble, so every byte the workload receives can be pinned by golden
// files.
package mm2

import "mirrormaker-k8s/internal/kafka"

// Paths inside the workload container. They are fixed by the Charmed Kafka rock's layout.
const (
	PropertiesPath = "/etc/kafka/mm2.properties"
	SecretsPath    = "/etc/kafka/mm2-secrets.properties"
	JMXRulesPath   = "/etc/kafka/mm2-jmx.yaml"
	Log4jPath      = "/etc/kafka/mm2-log4j.properties"
	Log4j2Path     = "/etc/kafka/mm2-log4j2.yaml"
	// CAPathPattern holds one %s: the cluster alias.
	CAPathPattern = "/etc/kafka/mm2-%s-ca.pem"

	RESTPort = 8083
	JMXPort  = 9099
)

// Values of Settings.ReplicationPolicy: the charm's names for MM2's replication policy classes.
const (
	PolicyIdentity = "identity" // IdentityReplicationPolicy: topics keep their names
	PolicyPrefix   = "prefix"   // DefaultReplicationPolicy: topics become "<source alias>.<topic>"
)

// Compressions are the values of Settings.Compression: the Kafka producer's compression.type.
var Compressions = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// Values of Settings.ExactlyOnce. They are Kafka Connect's values of exactly.once.source.support,
// except "disabled", which renders nothing so that a worker never sees the setting it did not ask for.
const (
	ExactlyOnceDisabled  = "disabled"
	ExactlyOncePreparing = "preparing"
	ExactlyOnceEnabled   = "enabled"
)

// Cluster is one side of the flow: its MM2 alias and how to reach it as an
// admin. The access is the very value the charm's own client dials with
// (package kafka), so what MM2 is told and what the charm measures with
// cannot drift apart. MM2 supports kafka.SASLPlaintext and kafka.SASLSSL;
// an empty CA means the JVM's default trust store.
type Cluster struct {
	Alias string // MM2 cluster alias, e.g. "old"
	kafka.Access
}

// Settings are the charm's config options, already validated by the caller.
type Settings struct {
	Topics, TopicsExclude []string // regexes
	Groups, GroupsExclude []string
	ReplicationPolicy     string // "identity" or "prefix"
	TasksMax              int
	ReplicationFactor     int
	InternalReplFactor    int
	SyncGroupOffsets      bool
	SyncTopicConfigs      bool
	SyncTopicACLs         bool
	ExactlyOnce           string // "disabled", "preparing", "enabled"
	Compression           string // of the records written to the target: one of Compressions

	OffsetFlushIntervalSeconds      int
	CheckpointIntervalSeconds       int
	SyncGroupOffsetsIntervalSeconds int
	RefreshTopicsIntervalSeconds    int
	RefreshGroupsIntervalSeconds    int
	SyncTopicConfigsIntervalSeconds int
	OffsetLagMax                    int

	LogLevel string // ERROR, WARN, INFO, DEBUG, TRACE
}

// Input is the whole of what the rendered files depend on.
type Input struct {
	Source, Target Cluster
	Settings       Settings
	// UnitAddress is this unit's address: MM2's internal REST listener binds and advertises it so
	// that the units of a multi-unit deployment can forward task configs to each other.
	UnitAddress string
	// Units is the number of units of the application. Rendering does not depend on it: every
	// unit always runs in multi-node dedicated mode, so scaling never changes a unit's files.
	Units int
}

// File is one rendered file with the permissions it must have in the container.
type File struct {
	Path    string
	Content []byte
	Secret  bool // 0600 rather than 0644
}

// Output is the set of files MM2 reads.
type Output struct {
	Files []File
}
