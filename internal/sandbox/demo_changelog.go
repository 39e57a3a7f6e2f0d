package sandbox

import (
	"context"
	"fmt"
	"time"

	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// The demo's changelog: a compacted topic, as every Kafka Streams changelog and every
// _schemas-like topic is, whose keys are written again and again while MM2 copies it, and
// whose cleaner runs on both clusters at its own moments (small segments, a low dirty ratio).
// Its offsets and record counts then differ between the clusters by design; the cutover must
// still prove it, by the latest value of every key.
const (
	demoChangelog           = "customers"
	demoChangelogPartitions = 3
	demoChangelogKeys       = 300 // keys, each written demoChangelogVersions times before mirroring
	demoChangelogVersions   = 10
	demoChangelogBatch      = 60 // new versions of existing keys, every demoProduceEvery
)

// demoChangelogConfig makes the cleaner compact within seconds of a segment rolling: MM2
// copies these configs to the topic it creates on the target, so both clusters compact.
var demoChangelogConfig = map[string]string{
	"cleanup.policy": "compact", "segment.ms": "3000", "segment.bytes": "65536",
	"min.cleanable.dirty.ratio": "0.01", "min.compaction.lag.ms": "0",
}

// changelogWriter writes versions of the changelog's keys, key i to partition i % partitions.
type changelogWriter struct {
	k       *localkafka.Kit
	written int
}

// write writes n records: the next version of keys 0, 1, ... cycling through every key.
func (w *changelogWriter) write(n int) error {
	byPartition := map[int32][]localkafka.Message{}
	for range n {
		i := w.written % demoChangelogKeys
		version := w.written / demoChangelogKeys
		p := int32(i % demoChangelogPartitions)
		byPartition[p] = append(byPartition[p], localkafka.Message{
			Key:   []byte(fmt.Sprintf("customer-%04d", i)),
			Value: []byte(fmt.Sprintf(`{"customer":%d,"version":%d}`, i, version))})
		w.written++
	}
	for p, ms := range byPartition {
		for start := 0; start < len(ms); start += 20 { // batches well under a 64 KiB segment
			if err := w.k.Send(demoChangelog, p, ms[start:min(start+20, len(ms))]...); err != nil {
				return err
			}
		}
	}
	return nil
}

// fillChangelog creates the changelog on the source and writes its first versions.
func (d *demo) fillChangelog() error {
	d.say("%s: compacted, %d partitions, %d keys written %d times each; new versions keep coming",
		demoChangelog, demoChangelogPartitions, demoChangelogKeys, demoChangelogVersions)
	if err := d.srcT.CreateTopic(demoChangelog, demoChangelogPartitions, demoChangelogConfig); err != nil {
		return err
	}
	d.changelog = &changelogWriter{k: d.srcT}
	return d.changelog.write(demoChangelogKeys * demoChangelogVersions)
}

// produceChangelog writes new versions every demoProduceEvery until ctx ends.
func (d *demo) produceChangelog(ctx context.Context) error {
	tick := time.NewTicker(demoProduceEvery)
	defer tick.Stop()
	for {
		if err := d.changelog.write(demoChangelogBatch); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// showCompaction waits until the cleaner has compacted the changelog on the source, and
// says what each cluster holds: offsets, records, live keys.
func (d *demo) showCompaction(ctx context.Context) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		src, err := compaction(ctx, d.srcT)
		if err != nil {
			return err
		}
		if src.records < src.offsets || time.Now().After(deadline) {
			dst, err := compaction(ctx, d.dstT)
			if err != nil {
				return err
			}
			d.say("%s on the source: %d records in %d offsets (%d keys); on the target: %d records in %d offsets (%d keys)",
				demoChangelog, src.records, src.offsets, src.keys, dst.records, dst.offsets, dst.keys)
			if src.records == src.offsets {
				d.say("(the source's cleaner has not run yet)")
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

type compacted struct{ offsets, records, keys int64 }

func compaction(ctx context.Context, k *localkafka.Kit) (compacted, error) {
	var c compacted
	offsets, err := k.Count(demoChangelog)
	if err != nil {
		return c, err
	}
	read, err := k.ReadAll(ctx, demoChangelog)
	if err != nil {
		return c, err
	}
	keys := map[string]bool{}
	for _, rs := range read {
		c.records += int64(len(rs))
		for _, r := range rs {
			keys[r.Key] = true
		}
	}
	c.offsets, c.keys = offsets, int64(len(keys))
	return c, nil
}
