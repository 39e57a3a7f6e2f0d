package sandbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// benchWorld is what the copy-rate runs share: the source cluster with its
// filled topic, and how to start a fresh target for each run.
type benchWorld struct {
	b                 *testing.B
	ctx               context.Context
	dist              localkafka.KafkaDist
	charmFile, pebble string
	shape             benchShape
	source            *localkafka.Cluster
	sourceEnds        map[int32]int64
}

// startCluster starts a one-node cluster in a directory of its own, removed
// when the cluster stops, so a run's gigabyte leaves the disk with it.
func (w *benchWorld) startCluster(name string) *localkafka.Cluster {
	w.b.Helper()
	dir, err := os.MkdirTemp("", "mm-bench-"+name+"-")
	if err != nil {
		w.b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(w.ctx, 2*time.Minute)
	defer cancel()
	c, err := localkafka.StartCluster(ctx, w.dist, localkafka.ClusterOptions{Name: name, Dir: dir})
	if err != nil {
		os.RemoveAll(dir)
		w.b.Fatal(err)
	}
	w.b.Cleanup(func() {
		if err := c.Stop(); err != nil {
			w.b.Errorf("cannot stop %s: %v", name, err)
		}
		os.RemoveAll(dir)
	})
	return c
}

// stopCluster stops c and frees its disk now, not at the benchmark's end.
func stopCluster(c *localkafka.Cluster) error {
	err := c.Stop()
	return errors.Join(err, os.RemoveAll(c.Dir))
}

// seed creates the topic on the source and writes the records: keys
// key-<n> (so the default partitioner spreads them as an application's
// would), values of shape.size bytes cut from a random pool, so that
// neither compression nor the page cache sees the same value twice in a row.
func (w *benchWorld) seed() {
	w.b.Helper()
	kit, err := localkafka.NewKit(w.source)
	if err != nil {
		w.b.Fatal(err)
	}
	defer kit.Close()
	if err := kit.CreateTopic(w.shape.topic, w.shape.partitions, nil); err != nil {
		w.b.Fatal(err)
	}
	cfg := w.source.Config(w.source.Admin)
	cfg.Producer.Return.Successes = false
	cfg.Producer.RequiredAcks = sarama.WaitForLocal
	cfg.Producer.Flush.Bytes = 512 << 10
	cfg.Producer.Flush.Frequency = 10 * time.Millisecond
	client, err := sarama.NewClient(w.source.Addrs(), cfg)
	if err != nil {
		w.b.Fatal(err)
	}
	defer client.Close()
	producer, err := sarama.NewAsyncProducerFromClient(client)
	if err != nil {
		w.b.Fatal(err)
	}
	var failed error
	var wg sync.WaitGroup
	wg.Go(func() {
		for e := range producer.Errors() {
			if failed == nil {
				failed = e
			}
		}
	})
	pool := make([]byte, 4<<20)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(pool)
	for i := range w.shape.records {
		at := (i * 7919) % (len(pool) - w.shape.size)
		producer.Input() <- &sarama.ProducerMessage{Topic: w.shape.topic,
			Key: sarama.StringEncoder(fmt.Sprintf("key-%d", i)), Value: sarama.ByteEncoder(pool[at : at+w.shape.size])}
	}
	producer.AsyncClose()
	wg.Wait()
	if failed != nil {
		w.b.Fatalf("cannot fill the source: %v", failed)
	}
	w.sourceEnds, err = kit.EndOffsets(w.shape.topic)
	if err != nil {
		w.b.Fatal(err)
	}
	var n int64
	for _, e := range w.sourceEnds {
		n += e
	}
	if n != int64(w.shape.records) {
		w.b.Fatalf("the source holds %d records, want %d", n, w.shape.records)
	}
}

// runOnce copies the source topic into a fresh target as r does and
// measures it there.
func (w *benchWorld) runOnce(r copyRun) copyResult {
	w.b.Helper()
	target := w.startCluster("new")
	defer func() {
		if err := stopCluster(target); err != nil {
			w.b.Errorf("cannot stop the target: %v", err)
		}
	}()
	start, stop, err := r.prepare(w, target)
	if err != nil {
		w.b.Fatalf("%s: %v", r.name, err)
	}
	defer stop()
	measured := make(chan copyResult, 1)
	failed := make(chan error, 1)
	begin := time.Now()
	go func() {
		res, err := w.measure(target, begin, r.all)
		if err != nil {
			failed <- err
			return
		}
		measured <- res
	}()
	if err := start(); err != nil {
		w.b.Fatalf("%s: %v", r.name, err)
	}
	select {
	case res := <-measured:
		return res
	case err := <-failed:
		w.b.Fatalf("%s: %v", r.name, err)
	}
	return copyResult{}
}

// measure polls the target's end offsets every 50 ms from begin until the
// copy is whole: each partition at the source's end offset (all: as many
// records as the shape in total).
func (w *benchWorld) measure(target *localkafka.Cluster, begin time.Time, all bool) (copyResult, error) {
	kit, err := localkafka.NewKit(target)
	if err != nil {
		return copyResult{}, err
	}
	defer kit.Close()
	res := copyResult{records: w.shape.records}
	deadline := time.Now().Add(15 * time.Minute)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last int64
	for {
		select {
		case <-w.ctx.Done():
			return res, w.ctx.Err()
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("the target holds %d of %d records after %s", last, w.shape.records, time.Since(begin).Round(time.Second))
		}
		ends, err := kit.EndOffsets(w.shape.topic)
		if err != nil {
			continue // not created yet
		}
		now := time.Since(begin)
		var sum int64
		whole := len(ends) == len(w.sourceEnds)
		for p, e := range ends {
			sum += e
			if e < w.sourceEnds[p] {
				whole = false
			}
		}
		last = sum
		if sum > 0 && res.first == 0 {
			res.first = now
		}
		if (all && sum >= int64(w.shape.records)) || (!all && whole) {
			res.whole = now
			return res, nil
		}
	}
}
