package kafka

import "sort"

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
	// Partial says the answer ended in a batch cut short, before any whole
	// one: ask again with more room. A broker speaking Fetch v3 or later
	// never sends one: it answers a partition whose first batch is larger
	// than the room left (the partition's, or the response's once other
	// partitions filled it) with no record at all, as it answers one it had
	// no room for, unless the partition comes first in its answer.
	Partial bool
	// Bytes is the size of the keys and values of the data records the
	// answer brought, those below the offset asked for (in the same batch)
	// too: what a read cost, for the benchmarks.
	Bytes int64
	Err   error
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

// SortedPartitions gives a deterministic request order.
func SortedPartitions[V any](m map[TopicPartition]V) []TopicPartition {
	out := make([]TopicPartition, 0, len(m))
	for tp := range m {
		out = append(out, tp)
	}
	sort.Slice(out, func(i, j int) bool { return LessPartition(out[i], out[j]) })
	return out
}

func LessPartition(a, b TopicPartition) bool {
	if a.Topic != b.Topic {
		return a.Topic < b.Topic
	}
	return a.Partition < b.Partition
}
