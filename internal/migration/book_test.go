package migration

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2/mm2test"
)

// countingWire counts the records Fetch returns.
type countingWire struct {
	*fakeCluster
	mu      sync.Mutex
	records int
}

func (w *countingWire) Fetch(ctx context.Context, broker int32, committedOnly bool, asks []kafka.FetchAsk) (map[kafka.TopicPartition]kafka.Fetched, error) {
	out, err := w.fakeCluster.Fetch(ctx, broker, committedOnly, asks)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range out {
		w.records += len(f.Records)
	}
	return out, err
}

func (w *countingWire) take() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.records
	w.records = 0
	return n
}

// flush writes one Connect offset per partition of orders, as MM2 does at
// every offset flush.
func flush(f *fakeCluster, topic string, partitions int32, offset int64) {
	for p := range partitions {
		f.append(topic, p%2, kv(mm2test.ConnectKey("old", "orders", p), mm2test.ConnectValue(offset)))
	}
}

// TestGivenABookWhenMeasuredAgainThenOnlyWhatMM2WroteSinceIsRead: with a
// book kept between measurements, each reads only the records MM2 wrote
// since the last, and MM2's progress comes out as a whole read gives it;
// the book survives encoding, and a log that no longer holds what the book
// says (records removed unread, the topic recreated) is read whole again.
func TestGivenABookWhenMeasuredAgainThenOnlyWhatMM2WroteSinceIsRead(t *testing.T) {
	ctx := context.Background()
	topic := testFlow.ConnectOffsetsTopic()
	f := newFakeCluster(1)
	f.addTopic(topic, 2)
	w := &countingWire{fakeCluster: f}
	for off := int64(0); off < 100; off++ {
		flush(f, topic, 8, off)
	}
	progress := func(book *Book) map[kafka.TopicPartition]int64 {
		t.Helper()
		meta, err := w.Metadata(ctx)
		require.NoError(t, err)
		errs := &itemErrors{}
		st := mm2Progress(testFlow, newSide("target", w, meta, errs).readTopics(ctx, []string{topic}, book), nil, errs)
		require.Empty(t, errs.sorted())
		require.NoError(t, st.progressErr)
		return st.progress
	}
	whole := func() map[kafka.TopicPartition]int64 {
		t.Helper()
		p := progress(nil)
		w.take()
		return p
	}

	book := &Book{}
	assert.Equal(t, whole(), progress(book))
	assert.Equal(t, 800, w.take(), "the first read is whole")
	assert.Equal(t, int64(99), progress(book)[tp("orders", 3)])
	assert.Zero(t, w.take(), "nothing new, nothing read")

	flush(f, topic, 8, 100)
	f.append(topic, 1, kv(mm2test.ConnectKey("old", "orders", 5), nil)) // a tombstone: MM2 forgot orders/5
	data, err := book.Encode()
	require.NoError(t, err)
	book, err = DecodeBook(data)
	require.NoError(t, err)
	got := progress(book)
	assert.Equal(t, 9, w.take(), "one flush and a tombstone")
	assert.Equal(t, whole(), got)
	assert.Equal(t, int64(100), got[tp("orders", 3)])
	assert.NotContains(t, got, tp("orders", 5))

	// Retention removed records the book never read: partition 0 is read whole.
	flush(f, topic, 8, 101)
	f.start[tp(topic, 0)] = f.ends[tp(topic, 0)] - 2
	got = progress(book)
	assert.Equal(t, 2+4, w.take(), "partition 0 from its new start, partition 1's new flush")
	assert.Equal(t, whole(), got)

	// The topic recreated, shorter than the book's place: read whole.
	f.logs[tp(topic, 1)], f.start[tp(topic, 1)], f.ends[tp(topic, 1)] = nil, 0, 0
	f.append(topic, 1, kv(mm2test.ConnectKey("old", "orders", 1), mm2test.ConnectValue(7)))
	got = progress(book)
	assert.Equal(t, 1, w.take())
	assert.Equal(t, whole(), got)
	assert.Equal(t, int64(7), got[tp("orders", 1)])

	_, err = DecodeBook([]byte("not a book"))
	assert.ErrorContains(t, err, "cannot decode the book of MM2's topics")
}

// BenchmarkReadMM2TopicsWithADayOfHistory reads MM2's Connect offsets after
// a day of a 2,000-partition migration: an offset flush a minute, each
// writing one record per partition, 2.88 million records that the topic's
// cleaner has not compacted (its active segment never rolled). "whole"
// reads them all at every measurement, as without a book; "incremental"
// keeps a book and reads the minute's flush. It reports the records read
// per measurement; B/op is the memory each allocates.
func BenchmarkReadMM2TopicsWithADayOfHistory(b *testing.B) {
	const partitions, flushes = 2000, 24 * 60
	ctx := context.Background()
	topic := testFlow.ConnectOffsetsTopic()
	f := newFakeCluster(1)
	f.addTopic(topic, 25)
	keys := make([][]byte, partitions)
	for p := range keys {
		keys[p] = mm2test.ConnectKey("old", "orders", int32(p))
	}
	flushOnce := func(offset int64) {
		value := mm2test.ConnectValue(offset)
		for p := range int32(partitions) {
			tp := tp(topic, p%25)
			next := f.endOf(tp)
			f.logs[tp] = append(f.logs[tp], kafka.Record{Offset: next, Key: keys[p], Value: value})
			f.ends[tp] = next + 1
		}
	}
	for off := range int64(flushes) {
		flushOnce(off)
	}
	w := &countingWire{fakeCluster: f}
	meta, err := w.Metadata(ctx)
	require.NoError(b, err)
	measure := func(book *Book) {
		errs := &itemErrors{}
		st := mm2Progress(testFlow, newSide("target", w, meta, errs).readTopics(ctx, []string{topic}, book), nil, errs)
		if len(st.progress) != partitions || len(errs.sorted()) > 0 {
			b.Fatalf("progress of %d partitions, errors %v", len(st.progress), errs.sorted())
		}
	}
	for _, bc := range []struct {
		name string
		book *Book
	}{{"whole", nil}, {"incremental", &Book{}}} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.book != nil {
				measure(bc.book) // the first measurement of the hook's unit reads whole
			}
			w.take()
			next, ops := int64(flushes), 0
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				flushOnce(next) // the minute between two update-status hooks
				next++
				b.StartTimer()
				measure(bc.book)
				ops++
			}
			b.ReportMetric(float64(w.take())/float64(ops), "records/op")
		})
	}
}
