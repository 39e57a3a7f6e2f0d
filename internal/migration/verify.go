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
	// exact and the source's records were found in order on the target.
	CountedByRecords = "records"
	// CountedByKeys: a compacted topic, read whole on both sides; the
	// latest record of every live key was compared.
	CountedByKeys = "keys"
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
	// Keys counts the live keys compared, for CountedByKeys.
	Keys int64
	// Duplicates are target records repeating a run already copied, as an
	// unclean MM2 stop leaves: a consumer reads them twice, nothing is lost.
	Duplicates int64
	// SourceBefore and TargetBefore are records outside the window both
	// sides still hold, left uncompared: source records whose copies the
	// target's retention removed, and copies of records the source's
	// retention removed.
	SourceBefore, TargetBefore int64
	// WithoutTimestamps: the target topic stamps LogAppendTime, so records
	// were compared without their timestamps.
	WithoutTimestamps bool
	// Equal is the verdict. Why says what differs, when something does
	// and the partition could be read.
	Equal bool
	Why   string
	Err   error

	proved bool // the whole reads' verdict
}

// verifyOptions tune verifyPartitions; ReadAll is for tests that must read everything.
type verifyOptions struct {
	// SampleSize is how many records at the end of each partition are
	// compared when the partitions are not read whole; spreadSamples more
	// records, evenly spaced, are compared as well.
	SampleSize int
	// ReadAll reads every partition whole, never trusting offsets.
	ReadAll bool
	// Progress, when set, hears how far the partitions read whole have got.
	Progress func(WholeProgress)
	// WholeBelow is the estimated size in bytes under which a partition is
	// read whole rather than sampled: wholeBelowBytes when 0, none when
	// negative.
	WholeBelow int64
}

// spreadSamples is how many single records, evenly spaced over a
// partition, are compared besides its tail.
const spreadSamples = 4

// Verify compares every mirrored partition with its copy on the target,
// by the topic's kind (see the README's "What the cutover proves"),
// reading the last sampleSize records of each plus a few spread over it;
// progress, when set, hears how far the partitions read whole have got.
//
// Counting records exactly needs reading them: transaction markers take
// offsets without being records (and MM2 never copies them), a compacted
// log has gaps, and an exactly-once MM2 writes markers of its own. Without
// any of these, end - start is the count. So each delete-policy
// partition's tail and a few spread records are read on both sides first;
// when every offset read holds a record on both sides and both span the
// same number of offsets, the offsets are taken as the counts
// (CountedByOffsets) and the records read are compared. Otherwise both
// sides are read whole (batched: one Fetch per leader per round, in rounds
// of at most heldRecords per side), matched in order over the window both
// sides still hold (CountedByRecords), or for a compacted topic by the
// latest record of every key (CountedByKeys). Offsets can be fooled by a
// marker on one side and a duplicate on the other at the same distance
// from the end; reading everything (verifyOptions.ReadAll, which the tests
// use) would not be, at the cost of reading every record.
//
// The error is for when nothing can be compared; what fails for a
// partition is in its Err.
func (p *Pair) Verify(ctx context.Context, flow mm2.Flow, sampleSize int, progress func(WholeProgress)) (Verification, error) {
	source, target := p.Source, p.Target
	if source == nil || target == nil {
		return Verification{}, errors.New("cannot verify partitions: both clusters are needed")
	}
	return verifyPartitions(ctx, source, target, flow, verifyOptions{SampleSize: sampleSize, Progress: progress})
}

// partitionEnds are the offsets one side needs: start, high-water mark and
// last stable offset.
type partitionEnds struct{ start, end, stable int64 }

// verifyRun is one verifyPartitions' inputs and what it has gathered, so
// that each pass is a step of its own.
type verifyRun struct {
	src, tgt       configWire
	flow           mm2.Flow
	opts           verifyOptions
	errs           *itemErrors
	source, target *side

	// mirrored are the source partitions compared, targets their copies,
	// index for index; checks are their results, filled in pass by pass.
	mirrored, targets []kafka.TopicPartition
	checks            []PartitionCheck

	sEnds, tEnds map[kafka.TopicPartition]partitionEnds
	sErr, tErr   map[kafka.TopicPartition]error

	// kinds are each partition's topic kind, index for index.
	kinds []topicKind
	// samples are the windows read of each partition in the first pass,
	// its tail first; small marks those whose tail says they are cheaper to
	// read whole than to sample.
	samples          [][]windowPair
	small            []bool
	srcScan, tgtScan *scanSide
}

// windowPair is one window read on both sides at the same distance from
// the end.
type windowPair struct{ s, t *window }

// verifyPartitions is Verify over wire, so tests can use fakes.
func verifyPartitions(ctx context.Context, src, tgt configWire, flow mm2.Flow, opts verifyOptions) (Verification, error) {
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
	r := &verifyRun{src: src, tgt: tgt, flow: flow, opts: opts, errs: &itemErrors{}}
	r.source, r.target = newSide("source", src, srcMeta, r.errs), newSide("target", tgt, tgtMeta, r.errs)
	r.mirrored = mirroredPartitions(srcMeta, m, flow, r.errs)
	r.targets = make([]kafka.TopicPartition, len(r.mirrored))
	for i, tp := range r.mirrored {
		r.targets[i] = kafka.TopicPartition{Topic: flow.TargetTopic(tp.Topic), Partition: tp.Partition}
	}
	r.listEnds(ctx)
	r.openChecks()
	r.readKinds(ctx)
	for i, k := range r.kinds {
		if r.checks[i].Err == nil {
			r.checks[i].Err = k.err
			r.checks[i].WithoutTimestamps = k.appendTime
		}
	}

	// First pass: the windows, unless everything is to be read: the tails,
	// then spread records of the partitions too large to read whole.
	if !opts.ReadAll {
		runSearches(ctx, r.planTails())
		runSearches(ctx, r.planSpread())
	}
	whole := r.judgeWindows()
	// Second pass: read whole, both sides at once.
	if len(whole) > 0 {
		r.readWhole(ctx, whole)
	}
	return r.verdict(), nil
}

// listEnds lists the offsets of both sides' partitions, in parallel.
func (r *verifyRun) listEnds(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { r.sEnds, r.sErr = r.source.endsOf(ctx, r.mirrored) })
	wg.Go(func() { r.tEnds, r.tErr = r.target.endsOf(ctx, r.targets) })
	wg.Wait()
}

// openChecks starts a check per partition, failing those whose offsets
// are unknown or move under an open transaction (their counts would not
// be final).
func (r *verifyRun) openChecks() {
	r.checks = make([]PartitionCheck, len(r.mirrored))
	for i, tp := range r.mirrored {
		ttp := r.targets[i]
		c := PartitionCheck{Topic: tp.Topic, TargetTopic: ttp.Topic, Partition: tp.Partition, SourceRecords: -1, TargetRecords: -1}
		s, t := r.sEnds[tp], r.tEnds[ttp]
		switch {
		case r.sErr[tp] != nil:
			c.Err = fmt.Errorf("cannot list source offsets: %w", r.sErr[tp])
		case r.tErr[ttp] != nil:
			c.Err = fmt.Errorf("cannot list offsets of %s/%d on the target: %w", ttp.Topic, ttp.Partition, r.tErr[ttp])
		case r.flow.ReadCommitted && s.stable < s.end:
			c.Err = fmt.Errorf("cannot count: a transaction is open on the source (last stable offset %d, end %d)", s.stable, s.end)
		case t.stable < t.end:
			c.Err = fmt.Errorf("cannot count: a transaction is open on %s/%d (last stable offset %d, end %d)", ttp.Topic, ttp.Partition, t.stable, t.end)
		}
		r.checks[i] = c
	}
}

// judgeWindows counts by offsets the partitions whose windows were read
// dense on both sides, and returns the indexes of those to read whole.
func (r *verifyRun) judgeWindows() (whole []int) {
	for i := range r.mirrored {
		c := &r.checks[i]
		if c.Err != nil {
			continue
		}
		s, t := r.sEnds[r.mirrored[i]], r.tEnds[r.targets[i]]
		if r.opts.ReadAll || s.end-s.start != t.end-t.start || r.kinds[i].compacted || r.small[i] {
			whole = append(whole, i)
			continue
		}
		dense, equal, n := true, true, 0
		for _, p := range r.samples[i] { // set by planWindows, as !ReadAll
			if err := errors.Join(p.s.cur.err, p.t.cur.err); err != nil {
				c.Err = fmt.Errorf("cannot read samples: %w", err)
				break
			}
			dense = dense && p.s.dense() && p.t.dense()
			equal = equal && p.s.sum() == p.t.sum()
			n += int(p.s.n)
		}
		if c.Err != nil {
			continue
		}
		if !dense || !equal {
			// Offsets alone cannot say why: a repeated run and retention
			// can shift the two sides by the same count.
			whole = append(whole, i)
			continue
		}
		c.CountedBy = CountedByOffsets
		c.SourceRecords, c.TargetRecords = s.end-s.start, t.end-t.start
		c.Sampled, c.SampleEqual = n, equal
	}
	return whole
}

// verdict gives each check and the whole its verdict, and sums the known
// counts.
func (r *verifyRun) verdict() Verification {
	v := Verification{Equal: true}
	for i := range r.checks {
		c := &r.checks[i]
		switch {
		case c.Err != nil:
		case c.CountedBy == CountedByOffsets:
			c.Equal = c.SourceRecords == c.TargetRecords && c.SampleEqual // judged so
		default:
			c.Equal, c.SampleEqual = c.proved, c.proved
		}
		v.Equal = v.Equal && c.Equal
		v.SourceRecords += max(c.SourceRecords, 0)
		v.TargetRecords += max(c.TargetRecords, 0)
	}
	v.Partitions = r.checks
	return v
}

func readEnd(e partitionEnds, readCommitted bool) int64 {
	if readCommitted {
		return e.stable
	}
	return e.end
}

// endsOf lists start, end and last stable offset of tps, batched per
// leader.
func (sd *side) endsOf(ctx context.Context, tps []kafka.TopicPartition) (map[kafka.TopicPartition]partitionEnds, map[kafka.TopicPartition]error) {
	var starts, ends, stables map[kafka.TopicPartition]kafka.OffsetAnswer
	var wg sync.WaitGroup
	wg.Go(func() { starts = sd.listOffsets(ctx, tps, kafka.OffsetEarliest, readUncommitted) })
	wg.Go(func() { ends = sd.listOffsets(ctx, tps, kafka.OffsetLatest, readUncommitted) })
	wg.Go(func() { stables = sd.listOffsets(ctx, tps, kafka.OffsetLatest, readCommitted) })
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
