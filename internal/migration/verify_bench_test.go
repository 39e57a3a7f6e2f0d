package migration

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
)

// BenchmarkVerify proves 2,000 partitions of each topic kind on one real
// broker playing both sides (identity policy, so each partition is
// compared with itself: the reads and the work are those of a real proof).
// Each partition holds 1,000 records of 100 bytes with distinct keys
// (about 130 KB in a few producer batches). "delete, sampled" forces the
// sampled proof (counts by offsets, the last 100 records and 4 spread ones
// hashed); a broker answers with whole batches, so each window costs a
// batch, and on partitions this small sampling costs more than reading
// whole, which "delete, default" shows the proof choosing. "delete, whole"
// reads every record in order, as markers, a repeated run or retention
// make it; "compacted" compares the latest value of every key. It reports
// requests and MB of keys and values fetched (both sides, every record
// the broker sent) per proof; B/op is the memory one proof allocates.
func BenchmarkVerify(b *testing.B) {
	const topics, partitions, verifyBenchRecords = 20, 100, 1000
	c := requireKafka(b, "bench-verify", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	k := newKit(b, c)
	begin := time.Now()
	var names []string
	for i := range topics {
		for _, kind := range []string{"d", "c"} {
			name := fmt.Sprintf("%s-%02d", kind, i)
			var cfg map[string]string
			if kind == "c" {
				cfg = map[string]string{"cleanup.policy": "compact"}
			}
			require.NoError(b, k.CreateTopic(name, partitions, cfg))
			names = append(names, name)
		}
	}
	k.waitTopics(names...)
	value := []byte(strings.Repeat("v", 100))
	for _, name := range names {
		for p := range int32(partitions) {
			kvs := make([][2][]byte, verifyBenchRecords)
			for r := range kvs {
				kvs[r] = kv([]byte(fmt.Sprintf("%s-%d-%d", name, p, r)), value)
			}
			k.send(name, p, kvs...)
		}
	}
	b.Logf("2 x %d partitions of %d records of 100 B written in %s", topics*partitions, verifyBenchRecords, time.Since(begin).Round(time.Second))

	cl := mustDial(b, ctx, c)
	counted := &bytesCounted{configWire: cl}
	for _, bc := range []struct {
		name    string
		pattern string
		opts    verifyOptions
		by      string
	}{
		{"delete, sampled", "d-.*", verifyOptions{SampleSize: verifySampleForBench, WholeBelow: 1}, CountedByOffsets},
		{"delete, default", "d-.*", verifyOptions{SampleSize: verifySampleForBench}, CountedByRecords},
		{"delete, whole", "d-.*", verifyOptions{SampleSize: verifySampleForBench, ReadAll: true}, CountedByRecords},
		{"compacted", "c-.*", verifyOptions{SampleSize: verifySampleForBench}, CountedByKeys},
	} {
		b.Run(bc.name, func(b *testing.B) {
			flow := mm2.Flow{SourceAlias: "old", TargetAlias: "new", Filter: mm2.Filter{Topics: []string{bc.pattern}}}
			cl.RequestsSent()
			counted.bytes.Store(0)
			ops := 0
			b.ReportAllocs()
			for b.Loop() {
				v, err := verifyPartitions(ctx, counted, counted, flow, bc.opts)
				if err != nil || !v.Equal || len(v.Partitions) != topics*partitions || v.Partitions[0].CountedBy != bc.by {
					bad, n := v.Partitions[0], 0
					for _, p := range v.Partitions {
						if !p.Equal {
							if n == 0 {
								bad = p
							}
							n++
						}
					}
					b.Fatalf("proof: %v, equal %v, %d partitions, %d unequal, first %+v", err, v.Equal, len(v.Partitions), n, bad)
				}
				ops++
			}
			total := 0
			for _, n := range cl.RequestsSent() {
				total += n
			}
			b.ReportMetric(float64(total)/float64(ops), "requests/op")
			b.ReportMetric(float64(counted.bytes.Load())/float64(ops)/(1<<20), "MB-fetched/op")
		})
	}
}

// verifySampleForBench is the charm's sample: the last 100 records of each
// partition, and spreadSamples more.
const verifySampleForBench = 100

// bytesCounted is a configWire that adds up the Bytes of every Fetch answer.
type bytesCounted struct {
	configWire
	bytes atomic.Int64
}

func (w *bytesCounted) Fetch(ctx context.Context, broker int32, committedOnly bool, asks []kafka.FetchAsk) (map[kafka.TopicPartition]kafka.Fetched, error) {
	got, err := w.configWire.Fetch(ctx, broker, committedOnly, asks)
	for _, f := range got {
		w.bytes.Add(f.Bytes)
	}
	return got, err
}
