package migration

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"mirrormaker-k8s/internal/kafka"

	"github.com/IBM/sarama"
)

// fakeCluster is a hand-written in-memory Kafka cluster speaking wire. It
// counts every request by kind and broker, so tests can assert how Measure
// batches, and can be told to fail a broker or a topic.
type fakeCluster struct {
	mu      sync.Mutex
	brokers []int32
	// partitions per topic; leader of each partition.
	topics    map[string][]kafka.PartitionMeta
	topicErrs map[string]error
	start     map[kafka.TopicPartition]int64
	logs      map[kafka.TopicPartition][]kafka.Record // offset-ordered; end = last offset + 1 unless ends set
	ends      map[kafka.TopicPartition]int64
	// markers are offsets of partitions without logs that hold control
	// records; every other offset in [start, end) holds a record.
	markers map[kafka.TopicPartition]map[int64]bool
	groups  map[string]*fakeGroup
	// down makes every request to the broker fail.
	down map[int32]error
	// metaErr fails Metadata.
	metaErr error
	// fetchRecords caps records per partition per Fetch, to force rounds.
	fetchRecords int
	// fetchPartitions, when set, is how many partitions of a Fetch get data, in the order
	// asked: the rest come back empty, as from a broker whose response filled up.
	fetchPartitions int
	// movedTo puts a group on another broker than the one the hash over
	// __consumer_offsets names, as during a coordinator move.
	movedTo map[string]int32

	calls map[string]int // "Kind" and "Kind@broker"
}

type fakeGroup struct {
	protocol string
	state    string
	members  int
	offsets  map[kafka.TopicPartition]int64
}

func newFakeCluster(brokers ...int32) *fakeCluster {
	return &fakeCluster{
		brokers:   brokers,
		topics:    map[string][]kafka.PartitionMeta{},
		topicErrs: map[string]error{},
		start:     map[kafka.TopicPartition]int64{},
		logs:      map[kafka.TopicPartition][]kafka.Record{},
		ends:      map[kafka.TopicPartition]int64{},
		markers:   map[kafka.TopicPartition]map[int64]bool{},
		groups:    map[string]*fakeGroup{},
		down:      map[int32]error{},
		calls:     map[string]int{},
	}
}

// addTopic creates topic with n partitions led round-robin by the brokers.
func (f *fakeCluster) addTopic(topic string, n int) {
	ps := make([]kafka.PartitionMeta, n)
	for i := range ps {
		ps[i] = kafka.PartitionMeta{ID: int32(i), Leader: f.brokers[i%len(f.brokers)]}
	}
	f.topics[topic] = ps
}

// setOffsets sets a partition's log start and end without records.
func (f *fakeCluster) setOffsets(topic string, p int32, start, end int64) {
	tp := kafka.TopicPartition{Topic: topic, Partition: p}
	f.start[tp], f.ends[tp] = start, end
}

// append adds records (offsets continue from the current end).
func (f *fakeCluster) append(topic string, p int32, kvs ...[2][]byte) {
	tp := kafka.TopicPartition{Topic: topic, Partition: p}
	next := f.endOf(tp)
	for _, kv := range kvs {
		f.logs[tp] = append(f.logs[tp], kafka.Record{Offset: next, Key: kv[0], Value: kv[1]})
		next++
	}
	f.ends[tp] = next
}

func (f *fakeCluster) endOf(tp kafka.TopicPartition) int64 {
	if e, ok := f.ends[tp]; ok {
		return e
	}
	return f.start[tp]
}

func (f *fakeCluster) addGroup(name, state string, members int, offsets map[kafka.TopicPartition]int64) {
	f.groups[name] = &fakeGroup{protocol: "consumer", state: state, members: members, offsets: offsets}
}

// trueCoordinator is where the group lives: what FindCoordinator says.
func (f *fakeCluster) trueCoordinator(g string) int32 {
	if b, ok := f.movedTo[g]; ok {
		return b
	}
	ps := f.topics[consumerOffsetsTopic]
	if len(ps) == 0 {
		return f.brokers[0]
	}
	return ps[groupPartition(g, len(ps))].Leader
}

func (f *fakeCluster) call(kind string, broker int32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[kind]++
	if broker >= 0 {
		f.calls[fmt.Sprintf("%s@%d", kind, broker)]++
		if err := f.down[broker]; err != nil {
			return err
		}
	}
	return nil
}

// total is the number of requests of all kinds.
func (f *fakeCluster) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, v := range f.calls {
		if !containsAt(k) {
			n += v
		}
	}
	return n
}

func containsAt(s string) bool {
	for i := range len(s) {
		if s[i] == '@' {
			return true
		}
	}
	return false
}

func (f *fakeCluster) Metadata(ctx context.Context) (kafka.Meta, error) {
	if err := f.call("Metadata", -1); err != nil {
		return kafka.Meta{}, err
	}
	if f.metaErr != nil {
		return kafka.Meta{}, f.metaErr
	}
	m := kafka.Meta{Brokers: f.brokers, Topics: map[string][]kafka.PartitionMeta{}, TopicErrs: map[string]error{}}
	for t, ps := range f.topics {
		m.Topics[t] = append([]kafka.PartitionMeta(nil), ps...)
	}
	for t, err := range f.topicErrs {
		m.TopicErrs[t] = err
	}
	return m, nil
}

func (f *fakeCluster) leaderOf(tp kafka.TopicPartition) int32 {
	for _, p := range f.topics[tp.Topic] {
		if p.ID == tp.Partition {
			return p.Leader
		}
	}
	return -1
}

func (f *fakeCluster) ListOffsets(ctx context.Context, broker int32, at int64, committedOnly bool, tps []kafka.TopicPartition) (map[kafka.TopicPartition]kafka.OffsetAnswer, error) {
	if err := f.call("ListOffsets", broker); err != nil {
		return nil, err
	}
	out := map[kafka.TopicPartition]kafka.OffsetAnswer{}
	for _, tp := range tps {
		if f.leaderOf(tp) != broker {
			out[tp] = kafka.OffsetAnswer{Offset: -1, Err: sarama.ErrNotLeaderForPartition}
			continue
		}
		switch at {
		case kafka.OffsetEarliest:
			out[tp] = kafka.OffsetAnswer{Offset: f.start[tp]}
		case kafka.OffsetLatest:
			out[tp] = kafka.OffsetAnswer{Offset: f.endOf(tp)}
		default: // a timestamp: the first record stamped at or after it, -1 for none
			out[tp] = kafka.OffsetAnswer{Offset: -1}
			for _, r := range f.logs[tp] {
				if r.Offset >= f.start[tp] && r.Timestamp >= at {
					out[tp] = kafka.OffsetAnswer{Offset: r.Offset}
					break
				}
			}
		}
	}
	return out, nil
}

func (f *fakeCluster) ListGroups(ctx context.Context, broker int32) (map[string]string, error) {
	if err := f.call("ListGroups", broker); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for g, fg := range f.groups {
		if f.trueCoordinator(g) == broker {
			out[g] = fg.protocol
		}
	}
	return out, nil
}

func (f *fakeCluster) FindCoordinator(ctx context.Context, group string) (int32, error) {
	if err := f.call("FindCoordinator", -1); err != nil {
		return -1, err
	}
	return f.trueCoordinator(group), nil
}

func (f *fakeCluster) FetchOffsets(ctx context.Context, broker int32, groups []string) (map[string]kafka.Committed, error) {
	if err := f.call("OffsetFetch", broker); err != nil {
		return nil, err
	}
	out := map[string]kafka.Committed{}
	for _, g := range groups {
		if f.trueCoordinator(g) != broker {
			out[g] = kafka.Committed{Err: sarama.ErrNotCoordinatorForConsumer}
			continue
		}
		o := kafka.Committed{Offsets: map[kafka.TopicPartition]int64{}}
		if fg, ok := f.groups[g]; ok {
			for tp, off := range fg.offsets {
				o.Offsets[tp] = off
			}
		}
		out[g] = o
	}
	return out, nil
}

func (f *fakeCluster) DescribeGroups(ctx context.Context, broker int32, groups []string) (map[string]kafka.GroupState, error) {
	if err := f.call("DescribeGroups", broker); err != nil {
		return nil, err
	}
	out := map[string]kafka.GroupState{}
	for _, g := range groups {
		switch fg, ok := f.groups[g]; {
		case f.trueCoordinator(g) != broker:
			out[g] = kafka.GroupState{Err: sarama.ErrNotCoordinatorForConsumer}
		case !ok:
			out[g] = kafka.GroupState{State: "Dead"}
		default:
			out[g] = kafka.GroupState{State: fg.state, Members: fg.members}
		}
	}
	return out, nil
}

func (f *fakeCluster) Fetch(ctx context.Context, broker int32, committedOnly bool, asks []kafka.FetchAsk) (map[kafka.TopicPartition]kafka.Fetched, error) {
	if err := f.call("Fetch", broker); err != nil {
		return nil, err
	}
	out := map[kafka.TopicPartition]kafka.Fetched{}
	for n, a := range asks {
		if f.fetchPartitions > 0 && n >= f.fetchPartitions {
			out[a.TP] = kafka.Fetched{Next: a.Offset} // no room left in the response
			continue
		}
		if f.leaderOf(a.TP) != broker {
			out[a.TP] = kafka.Fetched{Next: a.Offset, Err: sarama.ErrNotLeaderForPartition}
			continue
		}
		log, ok := f.logs[a.TP]
		if !ok {
			log = f.synthesise(a.TP)
		}
		i := sort.Search(len(log), func(i int) bool { return log[i].Offset >= a.Offset })
		n := len(log) - i
		if f.fetchRecords > 0 && n > f.fetchRecords {
			n = f.fetchRecords
		}
		got := kafka.Fetched{Records: append([]kafka.Record(nil), log[i:i+n]...), Next: a.Offset}
		if n > 0 {
			got.Next = log[i+n-1].Offset + 1
		}
		if i+n == len(log) {
			got.Next = max(got.Next, f.endOf(a.TP)) // trailing control records
		}
		out[a.TP] = got
	}
	return out, nil
}

// synthesise is the log of a partition given only offsets: one record per
// offset except markers.
func (f *fakeCluster) synthesise(tp kafka.TopicPartition) []kafka.Record {
	var log []kafka.Record
	for off := f.start[tp]; off < f.endOf(tp); off++ {
		if !f.markers[tp][off] {
			log = append(log, kafka.Record{Offset: off, Value: []byte("v")})
		}
	}
	return log
}
