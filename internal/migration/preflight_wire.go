package migration

import (
	"context"

	"mirrormaker-k8s/internal/kafka"
)

// preflightWire is the part of the protocol Preflight speaks beyond what
// Measure needs: the same one-call-one-request rule, so tests can count
// requests on a fake.
type preflightWire interface {
	wire
	// DescribeCluster is one Metadata request (v10, the last version that
	// carries them) for every topic, asking for the authorized operations
	// of the cluster and of each topic (KIP-430).
	DescribeCluster(ctx context.Context) (kafka.ClusterInfo, error)
	// DescribeConfigs asks broker for one config of each resource; broker
	// resources must be sent to the broker they name.
	DescribeConfigs(ctx context.Context, broker int32, rs []kafka.ConfigResource) (map[kafka.ConfigResource]kafka.ConfigValue, error)
	// DescribeLogDirs asks broker for the on-disk size of its replicas of
	// tps.
	DescribeLogDirs(ctx context.Context, broker int32, tps []kafka.TopicPartition) (map[kafka.TopicPartition]int64, error)
}
