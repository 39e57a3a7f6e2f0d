// Package migration answers the three questions the charm asks of a
// MirrorMaker 2 migration, over a Pair of clusters dialled by package kafka:
// may it start (Preflight), how far has it got (Measure, precisely and
// cheaply enough to run in every hook), and is each cutover step safe
// (Gates, ExactOffsets, WriteGroupOffsets, Quiet, Verify).
// Which topics and groups MM2 mirrors, and what it names them on the
// target, is package mm2's Flow; this package only reads it.
//
// From the source cluster it reads each mirrored partition's log start and
// end offsets and every matching consumer group's committed offsets and
// state; from the target it reads MM2's own bookkeeping (the Connect offsets
// topic, which says how far MirrorSourceConnector has replicated each
// partition, and the checkpoints topic, which says how MirrorCheckpointConnector
// translated each group's position) plus the target groups' committed offsets
// and state. Measure combines both into a SyncView: records behind per
// partition and in total, and whether each group's position has been carried
// across exactly (GroupView.Synced defines it). Lag is counted in offsets,
// an upper bound; a short remaining range is read and its records counted,
// so a transactional source's markers never hold a cutover gate shut.
//
// It asks in batches (ListOffsets per partition leader, OffsetFetch and
// DescribeGroups per group coordinator, Fetch per leader, all brokers in
// parallel), so the number of requests does not grow with the number of
// partitions or groups. One unreachable broker or unreadable topic degrades
// the view (the item is named in SyncView.Errors) rather than failing it.
// Measuring writes nothing to either cluster: the internal topics are read
// with plain fetches, never through a consumer group, so no offsets are
// committed anywhere. The one write in the package is the cutover's
// (WriteGroupOffsets): exact group offsets, computed by ExactOffsets,
// committed to empty groups on the target and read back.
//
// The package knows nothing of Juju. Its algorithms speak to small
// interfaces (wire, preflightWire, cutoverWire) that *kafka.Cluster
// satisfies and that the tests satisfy with in-memory fakes.
package migration
