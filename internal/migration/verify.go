package migration

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
)

// The producer-phase proof: once producers have stopped on the source and
// MM2 has caught up, every mirrored partition holds as many records on the
// target as on the source, and the same ones.

// Verification is the comparison of every mirrored partition with its copy.
type Verification struct {
	// Partitions are the mirrored source partitions, by topic then
	// partition.
	Partitions []PartitionCheck
	// SourceRecords and TargetRecords sum the known counts.
	SourceRecords, TargetRecords int64
	// Equal reports that every partition was compared and is equal.
	Equal bool
}

// Ways a PartitionCheck counted records.
const (
	// CountedByOffsets: both partitions hold a record at every offset of
	// the windows read, and span as many offsets, so end - start is taken
	// as the count without reading everything.
	CountedByOffsets = "offsets"
	// CountedByRecords: both partitions were read whole; the counts are
	// exact and every record was hashed.
	CountedByRecords = "records"
)

// PartitionCheck is one source partition against its copy.
type PartitionCheck struct {
	Topic, TargetTopic string
	Partition          int32
	// SourceRecords counts the records MM2 copies (transaction markers never
	// count; aborted records do not for a read_committed MM2, and do for a
	// read_uncommitted one, which copies them). TargetRecords counts the
	// records a read_committed consumer sees on the target. -1 when unknown.
	SourceRecords, TargetRecords int64
	// CountedBy is CountedByOffsets or CountedByRecords.
	CountedBy string
	// Sampled is how many records were compared by content hash on each
	// side (all of them when CountedBy is CountedByRecords), SampleEqual
	// whether they all hashed the same.
	Sampled     int
	SampleEqual bool
	// Equal is the verdict: same count and same sampled content.
	Equal bool
	Err   error
}

// VerifyOptions tune VerifyPartitionsWith.
type VerifyOptions struct {
	// SampleSize is how many records at the end of each partition are
	// compared when the partitions are not read whole; spreadSamples more
	// records, evenly spaced, are compared as well.
	SampleSize int
	// ReadAll reads every partition whole, never trusting offsets.
	ReadAll bool
}

// spreadSamples is how many single records, evenly spaced over a
// partition, are compared besides its tail.
const spreadSamples = 4

// Verify compares every mirrored partition with its copy, taking
// end - start offsets for the count where that is safe and comparing the
// last sampleSize records plus a few spread over the partition. See
// VerifyPartitionsWith.
func (p *Pair) Verify(ctx context.Context, flow mm2.Flow, sampleSize int) (Verification, error) {
	return p.VerifyWith(ctx, flow, VerifyOptions{SampleSize: sampleSize})
}

// VerifyWith compares every mirrored partition, from its log
// start to its end, with the copy on the target.
//
// Counting records exactly needs reading them: transaction markers take
// offsets without being records (and MM2 never copies them), a compacted
// log has gaps, and an exactly-once MM2 writes markers of its own. Without
// any of these, end - start is the count. So each partition's tail and a
// few spread records are read on both sides first; when every offset read
// holds a record on both sides and both span the same number of offsets,
// the offsets are taken as the counts (CountedByOffsets) and the records
// read are compared. Otherwise, or with ReadAll, both sides are read whole
// (batched: one Fetch per leader per round), counted and hashed in full.
// Offsets can be fooled by a marker on one side and a duplicate on the
// other at the same distance from the end; use ReadAll when that matters
// more than the time to read everything.
//
// Both sides are compared from their log start, so records removed by
// retention on one side only, or compacted differently, show as a
// difference: the check is meant for topics both sides still hold whole.
// Content is compared as sha256 over key, value, headers and timestamp, in
// order. The error is for when nothing can be compared; what fails for a
// partition is in its Err.
func (p *Pair) VerifyWith(ctx context.Context, flow mm2.Flow, opts VerifyOptions) (Verification, error) {
	source, target := p.Source, p.Target
	if source == nil || target == nil {
		return Verification{}, errors.New("cannot verify partitions: both clusters are needed")
	}
	return verifyPartitions(ctx, source, target, flow, opts)
}

// partitionEnds are the offsets one side needs: start, high-water mark and
// last stable offset.
type partitionEnds struct{ start, end, stable int64 }

func verifyPartitions(ctx context.Context, src, tgt wire, flow mm2.Flow, opts VerifyOptions) (Verification, error) {
	if flow.SourceAlias == "" {
		return Verification{}, errors.New("cannot verify partitions: flow has no source alias")
	}
	if opts.SampleSize < 0 {
		return Verification{}, errors.New("cannot verify partitions: negative sample size")
	}
	m, err := flow.Filter.Compile()
	if err != nil {
		return Verification{}, fmt.Errorf("cannot verify partitions: %w", err)
	}
	srcMeta, tgtMeta, err := describeBoth(ctx, src, tgt)
	if err != nil {
		return Verification{}, err
	}
	var wg sync.WaitGroup
	errs := &itemErrors{}
	mirrored := mirroredPartitions(srcMeta, m, flow, errs)
	targets := make([]kafka.TopicPartition, len(mirrored))
	for i, tp := range mirrored {
		targets[i] = kafka.TopicPartition{Topic: flow.TargetTopic(tp.Topic), Partition: tp.Partition}
	}
	srcL, tgtL := leadersOf(srcMeta), leadersOf(tgtMeta)
	var sEnds, tEnds map[kafka.TopicPartition]partitionEnds
	var sErr, tErr map[kafka.TopicPartition]error
	wg.Go(func() { sEnds, sErr = endsOf(ctx, src, "source", srcL, mirrored, errs) })
	wg.Go(func() { tEnds, tErr = endsOf(ctx, tgt, "target", tgtL, targets, errs) })
	wg.Wait()

	v := Verification{}
	checks := make([]PartitionCheck, len(mirrored))
	for i, tp := range mirrored {
		ttp := targets[i]
		c := PartitionCheck{Topic: tp.Topic, TargetTopic: ttp.Topic, Partition: tp.Partition, SourceRecords: -1, TargetRecords: -1}
		s, t := sEnds[tp], tEnds[ttp]
		switch {
		case sErr[tp] != nil:
			c.Err = fmt.Errorf("cannot list source offsets: %w", sErr[tp])
		case tErr[ttp] != nil:
			c.Err = fmt.Errorf("cannot list offsets of %s/%d on the target: %w", ttp.Topic, ttp.Partition, tErr[ttp])
		case flow.ReadCommitted && s.stable < s.end:
			c.Err = fmt.Errorf("cannot count: a transaction is open on the source (last stable offset %d, end %d)", s.stable, s.end)
		case t.stable < t.end:
			c.Err = fmt.Errorf("cannot count: a transaction is open on %s/%d (last stable offset %d, end %d)", ttp.Topic, ttp.Partition, t.stable, t.end)
		}
		checks[i] = c
	}

	srcSide := &scanSide{name: "source", w: src, l: srcL, committedOnly: flow.ReadCommitted}
	tgtSide := &scanSide{name: "target", w: tgt, l: tgtL, committedOnly: true}

	// First pass: the windows, unless everything is to be read.
	type pair struct{ s, t *window }
	samples := make([][]pair, len(mirrored))
	var searches []search
	if !opts.ReadAll {
		for i, tp := range mirrored {
			if checks[i].Err != nil {
				continue
			}
			s, t := sEnds[tp], tEnds[targets[i]]
			sn, tn := s.end-s.start, t.end-t.start
			if sn != tn {
				continue // the counts differ in offsets already: read whole
			}
			add := func(fromEnd, n int64) {
				if n <= 0 {
					return
				}
				sw := newWindow(srcSide, tp, s.end-fromEnd, s.end-fromEnd+n)
				tw := newWindow(tgtSide, targets[i], t.end-fromEnd, t.end-fromEnd+n)
				samples[i] = append(samples[i], pair{sw, tw})
				searches = append(searches, sw, tw)
			}
			tail := min(int64(opts.SampleSize), sn)
			add(tail, tail)
			for k := int64(1); k <= spreadSamples; k++ {
				// Evenly spaced over what the tail does not cover, as
				// distances from the end so both sides line up.
				if rest := sn - tail; rest >= spreadSamples {
					add(sn-(k-1)*rest/spreadSamples, 1)
				}
			}
		}
		runSearches(ctx, searches)
	}

	var whole []int
	for i := range mirrored {
		c := &checks[i]
		if c.Err != nil {
			continue
		}
		s, t := sEnds[mirrored[i]], tEnds[targets[i]]
		if opts.ReadAll || s.end-s.start != t.end-t.start {
			whole = append(whole, i)
			continue
		}
		dense, equal, n := true, true, 0
		for _, p := range samples[i] {
			if err := errors.Join(p.s.cur.err, p.t.cur.err); err != nil {
				c.Err = fmt.Errorf("cannot read samples: %w", err)
				break
			}
			dense = dense && p.s.dense() && p.t.dense()
			equal = equal && p.s.sum() == p.t.sum()
			n += len(p.s.records)
		}
		if c.Err != nil {
			continue
		}
		if !dense {
			whole = append(whole, i)
			continue
		}
		c.CountedBy = CountedByOffsets
		c.SourceRecords, c.TargetRecords = s.end-s.start, t.end-t.start
		c.Sampled, c.SampleEqual = n, equal
	}

	// Second pass: read whole, both sides at once.
	if len(whole) > 0 {
		sRanges, tRanges := map[kafka.TopicPartition]offsetRange{}, map[kafka.TopicPartition]offsetRange{}
		for _, i := range whole {
			s, t := sEnds[mirrored[i]], tEnds[targets[i]]
			sRanges[mirrored[i]] = offsetRange{s.start, readEnd(s, flow.ReadCommitted)}
			tRanges[targets[i]] = offsetRange{t.start, t.stable}
		}
		var sSums, tSums map[kafka.TopicPartition]*runningSum
		var sFailed, tFailed map[kafka.TopicPartition]error
		wg.Go(func() { sSums, sFailed = sumRanges(ctx, src, "source", srcL, sRanges, flow.ReadCommitted, errs) })
		wg.Go(func() { tSums, tFailed = sumRanges(ctx, tgt, "target", tgtL, tRanges, true, errs) })
		wg.Wait()
		for _, i := range whole {
			c := &checks[i]
			if err := errors.Join(sFailed[mirrored[i]], tFailed[targets[i]]); err != nil {
				c.Err = err
				continue
			}
			ss, ts := sSums[mirrored[i]], tSums[targets[i]]
			c.CountedBy = CountedByRecords
			c.SourceRecords, c.TargetRecords = ss.n, ts.n
			c.Sampled = int(min(ss.n, ts.n))
			c.SampleEqual = ss.n == ts.n && ss.sum() == ts.sum()
		}
	}

	v.Equal = true
	for i := range checks {
		c := &checks[i]
		c.Equal = c.Err == nil && c.SourceRecords == c.TargetRecords && c.SampleEqual
		v.Equal = v.Equal && c.Equal
		v.SourceRecords += max(c.SourceRecords, 0)
		v.TargetRecords += max(c.TargetRecords, 0)
	}
	v.Partitions = checks
	return v, nil
}

func readEnd(e partitionEnds, readCommitted bool) int64 {
	if readCommitted {
		return e.stable
	}
	return e.end
}

// endsOf lists start, end and last stable offset of tps, batched per
// leader.
func endsOf(ctx context.Context, w wire, side string, l leaders, tps []kafka.TopicPartition, errs *itemErrors) (map[kafka.TopicPartition]partitionEnds, map[kafka.TopicPartition]error) {
	var starts, ends, stables map[kafka.TopicPartition]kafka.OffsetAnswer
	var wg sync.WaitGroup
	wg.Go(func() { starts = listOffsets(ctx, w, side, l, tps, kafka.OffsetEarliest, false, errs) })
	wg.Go(func() { ends = listOffsets(ctx, w, side, l, tps, kafka.OffsetLatest, false, errs) })
	wg.Go(func() { stables = listOffsets(ctx, w, side, l, tps, kafka.OffsetLatest, true, errs) })
	wg.Wait()
	out := make(map[kafka.TopicPartition]partitionEnds, len(tps))
	failed := make(map[kafka.TopicPartition]error)
	for _, tp := range tps {
		s, e, st := starts[tp], ends[tp], stables[tp]
		if err := errors.Join(s.Err, e.Err, st.Err); err != nil {
			failed[tp] = err
			continue
		}
		out[tp] = partitionEnds{s.Offset, e.Offset, st.Offset}
	}
	return out, failed
}
