// Package kafka is the charm's Kafka client: it dials a cluster with the
// admin credentials the charm was given (SASL/SCRAM or PLAIN, over
// PLAINTEXT or TLS) and sends the few requests the migration package needs,
// one broker at a time, exactly as asked: Metadata, ListOffsets, ListGroups,
// FindCoordinator, OffsetFetch, DescribeGroups, Fetch, DescribeConfigs,
// DescribeLogDirs and OffsetCommit.
//
// It is a thin layer over sarama's broker-level API rather than sarama's
// consumer or admin clients, for two reasons: a measurement must commit no
// offsets and join no group anywhere, and it must batch by partition leader
// and group coordinator so that the number of requests does not grow with
// the number of partitions or groups. Fetch returns records decoded from
// their batches with aborted transactions and control records removed, as a
// read_committed consumer would see them.
//
// It is the only shipped package that imports sarama (make lint holds it
// so): ACL operations, config sources and the errors callers must tell
// apart (AuthenticationFailed, CoordinatorMoved, CertificateUntrusted) are
// given here in the charm's own terms.
//
// Each request reports per-item errors (a partition without a leader, a
// group whose coordinator moved) beside the answers, so one bad item never
// hides the others. The package knows nothing of MirrorMaker 2 or Juju; no
// client exists until Dial is called, so importing it costs a hook nothing.
package kafka
