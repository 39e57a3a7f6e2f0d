package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// wire is the part of the Kafka protocol Measure speaks, one method per
// request kind and one call per request sent, addressed to one broker. It
// is kept at that level, rather than "give me the lag", so that the batching
// lives in this package's own code where tests can see it: the hand-written
// fake in the tests counts calls per broker. *Cluster implements it over
// sarama.
type wire interface {
	// metadata describes every topic and the live brokers (one Metadata
	// request to any broker).
	metadata(ctx context.Context) (clusterMeta, error)
	// listOffsets asks broker, the leader of every partition in tps, for
	// their earliest (at = offsetEarliest) or latest (offsetLatest) offset.
	// committedOnly asks for the last stable offset instead of the
	// high-water mark, for topics written in transactions.
	listOffsets(ctx context.Context, broker int32, at int64, committedOnly bool, tps []topicPartition) (map[topicPartition]offsetAnswer, error)
	// listGroups lists the groups broker coordinates, with their protocol
	// type ("consumer", "connect", "" for offsets-only groups).
	listGroups(ctx context.Context, broker int32) (map[string]string, error)
	// findCoordinator asks any broker which broker coordinates group.
	findCoordinator(ctx context.Context, group string) (int32, error)
	// fetchOffsets asks broker for every committed offset of each group
	// (OffsetFetch v8 carries many groups in one request).
	fetchOffsets(ctx context.Context, broker int32, groups []string) (map[string]groupOffsets, error)
	// describeGroups asks broker for the state of groups it coordinates.
	describeGroups(ctx context.Context, broker int32, groups []string) (map[string]groupState, error)
	// fetch reads records from broker, the leader of every partition asked,
	// skipping control records, and with committedOnly the records of
	// aborted transactions (a read_committed Fetch).
	fetch(ctx context.Context, broker int32, committedOnly bool, asks []fetchAsk) (map[topicPartition]fetched, error)
}

// Special timestamps of ListOffsets.
const (
	offsetLatest   = -1
	offsetEarliest = -2
)

type topicPartition struct {
	topic     string
	partition int32
}

// clusterMeta is one Metadata answer.
type clusterMeta struct {
	brokers []int32
	// topics maps each topic to its partitions; a topic the broker reported
	// an error for is in topicErrs instead.
	topics    map[string][]partitionMeta
	topicErrs map[string]error
}

type partitionMeta struct {
	id int32
	// leader is -1 when the partition has none (err says why).
	leader int32
	err    error
}

type offsetAnswer struct {
	offset int64
	err    error
}

// groupOffsets is one group's OffsetFetch answer: committed offsets of the
// partitions it has any for, or a group-level error.
type groupOffsets struct {
	offsets map[topicPartition]int64
	err     error
}

// groupState is one group's DescribeGroups answer.
type groupState struct {
	state   string
	members int
	err     error
}

// fetchAsk is one partition of a Fetch request: read from offset, at most
// maxBytes.
type fetchAsk struct {
	tp       topicPartition
	offset   int64
	maxBytes int32
}

// fetched is one partition of a Fetch answer. next is the offset to fetch
// from next: past every batch returned, control and aborted ones included,
// so a reader always progresses; next == the asked offset means nothing
// complete came back.
type fetched struct {
	records []record
	next    int64
	err     error
}

type record struct {
	offset     int64
	key, value []byte
	// timestamp is the record's timestamp as a consumer sees it (Unix
	// milliseconds, -1 for none) and headers its headers: with key and
	// value, what MM2 copies unchanged, so what tells a copy from another
	// record.
	timestamp int64
	headers   []header
}

type header struct{ key, value []byte }

// describeBoth reads both clusters' metadata at once. Translating offsets and verifying the
// copy each need both sides, so either failing fails the whole.
func describeBoth(ctx context.Context, src, tgt wire) (srcMeta, tgtMeta clusterMeta, err error) {
	var srcErr, tgtErr error
	var wg sync.WaitGroup
	wg.Go(func() { srcMeta, srcErr = src.metadata(ctx) })
	wg.Go(func() { tgtMeta, tgtErr = tgt.metadata(ctx) })
	wg.Wait()
	if err := errors.Join(srcErr, tgtErr); err != nil {
		return srcMeta, tgtMeta, fmt.Errorf("cannot describe clusters: %w", err)
	}
	return srcMeta, tgtMeta, nil
}
