package sandbox

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// What the end-to-end tests write to the source and how they compare it with
// the target: records keyed and numbered per topic, waits that poll with a
// deadline, and comparisons that name the first difference instead of
// dumping thousands of records.

// createTopic creates topic on the source.
func (m *migration) createTopic(topic string, partitions int32) {
	m.t.Helper()
	require.NoError(m.t, m.src.CreateTopic(topic, partitions, nil))
}

// produceAll writes counts[topic] more records to each topic on the source,
// topics in parallel.
func (m *migration) produceAll(counts map[string]int) {
	m.t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(counts))
	for topic, n := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- m.src.Produce(topic, n)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(m.t, err)
	}
}

// partitions is topic's partition count on the source.
func (m *migration) partitions(topic string) int32 {
	m.t.Helper()
	n, err := m.src.Partitions(topic)
	require.NoError(m.t, err)
	return n
}

// waitCopied waits until the target holds at least as many records as the
// source in each topic (the comparison then proves which ones).
func (m *migration) waitCopied(timeout time.Duration, topics ...string) {
	m.t.Helper()
	begin := time.Now()
	var progress []string
	err := poll.Until(m.ctx, timeout, time.Second, func() (bool, error) {
		progress = progress[:0]
		done := true
		for _, topic := range topics {
			want, err := m.src.Count(topic)
			if err != nil {
				return false, err
			}
			got, err := m.tgt.Count(topic)
			if err != nil {
				got = -1 // not created on the target yet
			}
			progress = append(progress, fmt.Sprintf("%s %d/%d", topic, got, want))
			done = done && got >= want
		}
		return done, nil
	}, "the target to hold every record of "+strings.Join(topics, ", "))
	require.NoError(m.t, err, "progress: %s", strings.Join(progress, ", "))
	m.t.Logf("target caught up (%s) after %s", strings.Join(progress, ", "), time.Since(begin).Round(time.Millisecond))
}

// sameRecord compares what a consumer sees of a record, offsets aside.
func sameRecord(a, b localkafka.Record) bool {
	return a.Key == b.Key && a.Value == b.Value && maps.Equal(a.Headers, b.Headers)
}

func describeRecord(r localkafka.Record) string {
	return fmt.Sprintf("offset %d key %q value %q headers %v", r.Offset, r.Key, r.Value, r.Headers)
}

// readBoth reads topic from both clusters.
func (m *migration) readBoth(topic string) (src, tgt map[int32][]localkafka.Record) {
	m.t.Helper()
	src, err := m.src.ReadAll(m.ctx, topic)
	require.NoError(m.t, err)
	tgt, err = m.tgt.ReadAll(m.ctx, topic)
	require.NoError(m.t, err)
	return src, tgt
}

// assertIdentical asserts that every partition of topic holds, on the
// target, exactly the source's records in the same order, and returns how
// many records it compared.
func (m *migration) assertIdentical(t *testing.T, topic string) int {
	t.Helper()
	src, tgt := m.readBoth(topic)
	assert.Len(t, tgt, len(src), "%s: partitions with records", topic)
	n := 0
	for p, want := range src {
		got := tgt[p]
		if !assert.Len(t, got, len(want), "%s/%d: record count", topic, p) {
			continue
		}
		for i := range want {
			if !sameRecord(want[i], got[i]) {
				t.Errorf("%s/%d: record %d differs:\n source %s\n target %s", topic, p, i, describeRecord(want[i]), describeRecord(got[i]))
				break
			}
		}
		n += len(want)
	}
	return n
}

// assertNoneMissing asserts that every source record of topic is on the
// target in the same partition, first copies in source order, and nothing
// else is there; it returns the number of duplicates (at-least-once).
func (m *migration) assertNoneMissing(t *testing.T, topic string) (records, duplicates int) {
	t.Helper()
	src, tgt := m.readBoth(topic)
	for p, want := range src {
		seen := map[string]bool{}
		j := 0
		for _, r := range tgt[p] {
			if seen[r.Key] {
				duplicates++
				continue
			}
			seen[r.Key] = true
			if j >= len(want) || !sameRecord(want[j], r) {
				expected := "nothing more"
				if j < len(want) {
					expected = describeRecord(want[j])
				}
				t.Errorf("%s/%d: target record %s where the source has %s", topic, p, describeRecord(r), expected)
				break
			}
			j++
		}
		if j < len(want) {
			t.Errorf("%s/%d: %d of %d source records missing on the target, first %s", topic, p, len(want)-j, len(want), describeRecord(want[j]))
		}
		records += len(want)
	}
	for p := range tgt {
		if _, ok := src[p]; !ok {
			t.Errorf("%s/%d: records on the target, none on the source", topic, p)
		}
	}
	return records, duplicates
}

// stepLogger logs a test's steps, each with the seconds since the test began.
func stepLogger(t *testing.T) func(format string, args ...any) {
	begin := time.Now()
	return func(format string, args ...any) {
		t.Helper()
		t.Logf("[%5.1fs] "+format, append([]any{time.Since(begin).Seconds()}, args...)...)
	}
}

// drainAndCompare ends a test's load: 600 more records (proof that MM2 still copies), the
// background producer stopped, the target holding every record within timeout, and both
// clusters compared record by record (assertNoneMissing), each step logged.
func (m *migration) drainAndCompare(step func(string, ...any), stopProducing func(), topic string, timeout time.Duration) {
	m.t.Helper()
	require.NoError(m.t, m.src.Produce(topic, 600))
	stopProducing()
	copied := time.Now()
	m.waitCopied(timeout, topic)
	step("copied everything %s after the producer stopped", time.Since(copied).Round(time.Second))
	records, duplicates := m.assertNoneMissing(m.t, topic)
	step("%d records, none missing, %d duplicates", records, duplicates)
}

// produceInBackground calls write every 250 ms, as a producer still serving production, until
// the returned stop is called (at cleanup at the latest). stop is idempotent and fails the test
// with write's error, if any.
func produceInBackground(t *testing.T, ctx context.Context, write func() error) (stop func()) {
	t.Helper()
	prodCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		for {
			if err := write(); err != nil {
				done <- err
				return
			}
			select {
			case <-prodCtx.Done():
				done <- nil
				return
			case <-time.After(250 * time.Millisecond): // pacing, not waiting for a condition
			}
		}
	}()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			require.NoError(t, <-done)
		}
	}
	t.Cleanup(stop)
	return stop
}
