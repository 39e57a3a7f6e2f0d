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
	// Metadata describes every topic and the live brokers (one Metadata
	// request to any broker).
	Metadata(ctx context.Context) (Meta, error)
	// ListOffsets asks broker, the leader of every partition in tps, for
	// their earliest (at = offsetEarliest) or latest (offsetLatest) offset.
	// committedOnly asks for the last stable offset instead of the
	// high-water mark, for topics written in transactions.
	ListOffsets(ctx context.Context, broker int32, at int64, committedOnly bool, tps []TopicPartition) (map[TopicPartition]OffsetAnswer, error)
	// ListGroups lists the groups broker coordinates, with their protocol
	// type ("consumer", "connect", "" for offsets-only groups).
	ListGroups(ctx context.Context, broker int32) (map[string]string, error)
	// FindCoordinator asks any broker which broker coordinates group.
	FindCoordinator(ctx context.Context, group string) (int32, error)
	// FetchOffsets asks broker for every committed offset of each group
	// (OffsetFetch v8 carries many groups in one request).
	FetchOffsets(ctx context.Context, broker int32, groups []string) (map[string]Committed, error)
	// DescribeGroups asks broker for the state of groups it coordinates.
	DescribeGroups(ctx context.Context, broker int32, groups []string) (map[string]GroupState, error)
	// Fetch reads records from broker, the leader of every partition asked,
	// skipping control records, and with committedOnly the records of
	// aborted transactions (a read_committed Fetch).
	Fetch(ctx context.Context, broker int32, committedOnly bool, asks []FetchAsk) (map[TopicPartition]Fetched, error)
}

// Special timestamps of ListOffsets.
const (
	OffsetLatest   = -1
	OffsetEarliest = -2
)

type TopicPartition struct {
	Topic     string
	Partition int32
}

// Meta is one Metadata answer.
type Meta struct {
	Brokers []int32
	// Topics maps each topic to its partitions; a topic the broker reported
	// an error for is in topicErrs instead.
	Topics    map[string][]PartitionMeta
	TopicErrs map[string]error
}

type PartitionMeta struct {
	ID int32
	// Leader is -1 when the partition has none (err says why).
	Leader int32
	Err    error
}

type OffsetAnswer struct {
	Offset int64
	Err    error
}

// Committed is one group's OffsetFetch answer: committed offsets of the
// partitions it has any for, or a group-level error.
type Committed struct {
	Offsets map[TopicPartition]int64
	Err     error
}

// GroupState is one group's DescribeGroups answer.
type GroupState struct {
	State   string
	Members int
	Err     error
}

// FetchAsk is one partition of a Fetch request: read from offset, at most
// maxBytes.
type FetchAsk struct {
	TP       TopicPartition
	Offset   int64
	MaxBytes int32
}

// Fetched is one partition of a Fetch answer. next is the offset to fetch
// from next: past every batch returned, control and aborted ones included,
// so a reader always progresses; next == the asked offset means nothing
// complete came back.
type Fetched struct {
	Records []Record
	Next    int64
	Err     error
}

type Record struct {
	Offset     int64
	Key, Value []byte
	// Timestamp is the record's Timestamp as a consumer sees it (Unix
	// milliseconds, -1 for none) and headers its headers: with key and
	// value, what MM2 copies unchanged, so what tells a copy from another
	// record.
	Timestamp int64
	Headers   []Header
}

type Header struct{ Key, Value []byte }

// describeBoth reads both clusters' metadata at once. Translating offsets and verifying the
// copy each need both sides, so either failing fails the whole.
func describeBoth(ctx context.Context, src, tgt wire) (srcMeta, tgtMeta Meta, err error) {
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
