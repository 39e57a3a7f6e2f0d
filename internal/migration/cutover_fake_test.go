package migration

import (
	"context"
	"sort"

	"mirrormaker-k8s/internal/kafka"

	"github.com/IBM/sarama"
)

// cutoverFake extends fakeCluster with what the cutover needs beyond
// Measure: records at chosen offsets (gaps stand for transaction markers
// and compacted records), aborted records that a read_committed Fetch
// skips, a last stable offset, and OffsetCommit.
type cutoverFake struct {
	*fakeCluster
	// aborted are offsets of records in aborted transactions.
	aborted map[kafka.TopicPartition]map[int64]bool
	// stable is a partition's last stable offset, when below its end.
	stable map[kafka.TopicPartition]int64
	// dropCommit makes a commit answer success without storing the offset.
	dropCommit map[kafka.TopicPartition]bool
	// growAfter makes every partition's end move by one after that many
	// ListOffsets requests (0: never), as a producer still writing.
	growAfter   int
	listOffsetN int
	// configs are topic configs set apart from Kafka's defaults
	// (cleanup.policy=delete, message.timestamp.type=CreateTime).
	configs map[string]map[string]string
}

func newCutoverFake(brokers ...int32) *cutoverFake {
	return &cutoverFake{fakeCluster: newFakeCluster(brokers...), aborted: map[kafka.TopicPartition]map[int64]bool{},
		stable: map[kafka.TopicPartition]int64{}, dropCommit: map[kafka.TopicPartition]bool{},
		configs: map[string]map[string]string{}}
}

func (f *cutoverFake) setConfig(topic, name, value string) {
	if f.configs[topic] == nil {
		f.configs[topic] = map[string]string{}
	}
	f.configs[topic][name] = value
}

func (f *cutoverFake) DescribeConfigs(ctx context.Context, broker int32, rs []kafka.ConfigResource) (map[kafka.ConfigResource]kafka.ConfigValue, error) {
	if err := f.call("DescribeConfigs", broker); err != nil {
		return nil, err
	}
	defaults := map[string]string{topicCleanupPolicy: "delete", topicTimestampType: "CreateTime"}
	out := map[kafka.ConfigResource]kafka.ConfigValue{}
	for _, r := range rs {
		if f.topics[r.Name] == nil {
			out[r] = kafka.ConfigValue{Err: sarama.ErrUnknownTopicOrPartition}
			continue
		}
		v, ok := f.configs[r.Name][r.Config]
		if !ok {
			v = defaults[r.Config]
		}
		out[r] = kafka.ConfigValue{Value: v, Source: kafka.ConfigFromDefault}
	}
	return out, nil
}

// rec is a record whose content is named by name: key name, value
// "v-"+name, one header, a timestamp derived from the name, so equal names
// are equal records.
func rec(offset int64, name string) kafka.Record {
	ts := int64(1_700_000_000_000)
	for _, c := range name {
		ts = ts*31 + int64(c)
	}
	return kafka.Record{Offset: offset, Key: []byte(name), Value: []byte("v-" + name), Timestamp: ts & (1<<50 - 1),
		Headers: []kafka.Header{{Key: []byte("h"), Value: []byte(name)}}}
}

// recs are records named names at offsets from, from+1, ...
func recs(from int64, names ...string) []kafka.Record {
	out := make([]kafka.Record, len(names))
	for i, n := range names {
		out[i] = rec(from+int64(i), n)
	}
	return out
}

// put sets a partition's log to rs (any offsets, in order) and its end to
// end, or one past the last record when end is -1.
func (f *cutoverFake) put(topic string, p int32, start, end int64, rs ...kafka.Record) {
	tp := kafka.TopicPartition{Topic: topic, Partition: p}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Offset < rs[j].Offset })
	f.logs[tp] = rs
	f.start[tp] = start
	if end < 0 {
		end = start
		if len(rs) > 0 {
			end = rs[len(rs)-1].Offset + 1
		}
	}
	f.ends[tp] = end
}

func (f *cutoverFake) abort(topic string, p int32, offsets ...int64) {
	tp := kafka.TopicPartition{Topic: topic, Partition: p}
	if f.aborted[tp] == nil {
		f.aborted[tp] = map[int64]bool{}
	}
	for _, o := range offsets {
		f.aborted[tp][o] = true
	}
}

func (f *cutoverFake) Fetch(ctx context.Context, broker int32, committedOnly bool, asks []kafka.FetchAsk) (map[kafka.TopicPartition]kafka.Fetched, error) {
	out, err := f.fakeCluster.Fetch(ctx, broker, committedOnly, asks)
	if err != nil || !committedOnly {
		return out, err
	}
	for tp, got := range out {
		kept := got.Records[:0:0]
		for _, r := range got.Records {
			if !f.aborted[tp][r.Offset] {
				kept = append(kept, r)
			}
		}
		got.Records = kept
		out[tp] = got
	}
	return out, nil
}

func (f *cutoverFake) ListOffsets(ctx context.Context, broker int32, at int64, committedOnly bool, tps []kafka.TopicPartition) (map[kafka.TopicPartition]kafka.OffsetAnswer, error) {
	f.mu.Lock()
	f.listOffsetN++
	if f.growAfter > 0 && f.listOffsetN == f.growAfter {
		for tp := range f.ends {
			f.ends[tp]++
		}
	}
	f.mu.Unlock()
	out, err := f.fakeCluster.ListOffsets(ctx, broker, at, committedOnly, tps)
	if err != nil || !committedOnly || at != kafka.OffsetLatest {
		return out, err
	}
	for tp, a := range out {
		if s, ok := f.stable[tp]; ok && a.Err == nil {
			out[tp] = kafka.OffsetAnswer{Offset: s}
		}
	}
	return out, nil
}

func (f *cutoverFake) CommitOffsets(ctx context.Context, broker int32, group string, offsets map[kafka.TopicPartition]int64) (map[kafka.TopicPartition]error, error) {
	if err := f.call("OffsetCommit", broker); err != nil {
		return nil, err
	}
	out := map[kafka.TopicPartition]error{}
	g := f.groups[group]
	for tp, off := range offsets {
		switch {
		case f.trueCoordinator(group) != broker:
			out[tp] = sarama.ErrNotCoordinatorForConsumer
		case g != nil && g.members > 0:
			out[tp] = sarama.ErrUnknownMemberId
		case f.topics[tp.Topic] == nil:
			out[tp] = sarama.ErrUnknownTopicOrPartition
		default:
			out[tp] = nil
			if f.dropCommit[tp] {
				continue
			}
			if g == nil {
				g = &fakeGroup{protocol: "", state: "Empty", offsets: map[kafka.TopicPartition]int64{}}
				f.groups[group] = g
			}
			if g.offsets == nil {
				g.offsets = map[kafka.TopicPartition]int64{}
			}
			g.offsets[tp] = off
		}
	}
	return out, nil
}
