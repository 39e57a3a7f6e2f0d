package migration

import (
	"mirrormaker-k8s/internal/kafka"
)

// Pair is a migration's two clusters, dialled. Every question the charm asks
// is a method on it, so the charm holds one value per hook and closes it once.
// Target may be nil for Measure and Preflight, and Source for Preflight: what
// one cluster can tell is still worth telling while the other is unreachable.
// The cutover's methods need both.
type Pair struct {
	Source, Target *kafka.Cluster
	// Book, when set, makes reads of MM2's internal topics incremental (see
	// Book); the Pair updates it. A Pair is not for concurrent use.
	Book *Book
	// TargetEnds makes Measure also read the end offset of every mirrored
	// partition on the target (PartitionLag.TargetEnd): one more request per
	// target broker, which the migration exporter pays and hooks do not.
	TargetEnds bool
}

// Close closes the clusters that were dialled.
func (p *Pair) Close() {
	for _, c := range []*kafka.Cluster{p.Source, p.Target} {
		if c != nil {
			c.Close()
		}
	}
}
