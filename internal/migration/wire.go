package migration

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"mirrormaker-k8s/internal/kafka"
)

// wire is the part of the Kafka protocol Measure speaks, one method per
// request kind and one call per request sent, addressed to one broker. It
// is kept at that level, rather than "give me the lag", so that the batching
// lives in this package's own code where tests can see it: the hand-written
// fake in the tests counts calls per broker. *Cluster implements it over
// sarama.
type wire interface {
	// Metadata describes every topic and the live brokers (one Metadata
	// request to any broker).
	Metadata(ctx context.Context) (kafka.Meta, error)
	// ListOffsets asks broker, the leader of every partition in tps, for
	// their earliest (at = offsetEarliest) or latest (offsetLatest) offset.
	// committedOnly asks for the last stable offset instead of the
	// high-water mark, for topics written in transactions.
	ListOffsets(ctx context.Context, broker int32, at int64, committedOnly bool, tps []kafka.TopicPartition) (map[kafka.TopicPartition]kafka.OffsetAnswer, error)
	// ListGroups lists the groups broker coordinates, with their protocol
	// type ("consumer", "connect", "" for offsets-only groups).
	ListGroups(ctx context.Context, broker int32) (map[string]string, error)
	// FindCoordinator asks any broker which broker coordinates group.
	FindCoordinator(ctx context.Context, group string) (int32, error)
	// FetchOffsets asks broker for every committed offset of each group
	// (OffsetFetch v8 carries many groups in one request).
	FetchOffsets(ctx context.Context, broker int32, groups []string) (map[string]kafka.Committed, error)
	// DescribeGroups asks broker for the state of groups it coordinates.
	DescribeGroups(ctx context.Context, broker int32, groups []string) (map[string]kafka.GroupState, error)
	// Fetch reads records from broker, the leader of every partition asked,
	// skipping control records, and with committedOnly the records of
	// aborted transactions (a read_committed Fetch).
	Fetch(ctx context.Context, broker int32, committedOnly bool, asks []kafka.FetchAsk) (map[kafka.TopicPartition]kafka.Fetched, error)
}

// describeBoth reads both clusters' metadata at once. Translating offsets and verifying the
// copy each need both sides, so either failing fails the whole.
func describeBoth(ctx context.Context, src, tgt wire) (srcMeta, tgtMeta kafka.Meta, err error) {
	var srcErr, tgtErr error
	var wg sync.WaitGroup
	wg.Go(func() { srcMeta, srcErr = src.Metadata(ctx) })
	wg.Go(func() { tgtMeta, tgtErr = tgt.Metadata(ctx) })
	wg.Wait()
	if err := errors.Join(srcErr, tgtErr); err != nil {
		return srcMeta, tgtMeta, fmt.Errorf("cannot describe clusters: %w", err)
	}
	return srcMeta, tgtMeta, nil
}

// The real client speaks every wire this package asks for.
var (
	_ wire          = (*kafka.Cluster)(nil)
	_ preflightWire = (*kafka.Cluster)(nil)
	_ configWire    = (*kafka.Cluster)(nil)
	_ cutoverWire   = (*kafka.Cluster)(nil)
)
