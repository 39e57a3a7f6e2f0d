package migration

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"mirrormaker-k8s/internal/kafka"
)

// Reading partitions whole, both sides at once, in rounds that each hold at
// most heldRecords records per side, so that memory does not grow with the
// number or size of partitions: every record is read once per side, and a
// round's hashes are dropped before the next round reads.

// heldRecords bounds the records one round reads per side, estimated from
// offsets (which count at least every record). A partition larger than
// that is read alone.
const heldRecords = 1 << 20

// partitionRead is what one side's records of one partition reduce to.
type partitionRead struct {
	n      int64
	seq    []hashed // delete-policy topics
	latest latest   // compacted topics
}

// rounds splits the partitions at whole into rounds of at most heldRecords
// offsets per side.
func (r *verifyRun) rounds(whole []int) [][]int {
	var out [][]int
	var cur []int
	var held int64
	for _, i := range whole {
		s, t := r.sEnds[r.mirrored[i]], r.tEnds[r.targets[i]]
		n := max(s.end-s.start, t.end-t.start)
		if len(cur) > 0 && held+n > heldRecords {
			out, cur, held = append(out, cur), nil, 0
		}
		cur = append(cur, i)
		held += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// WholeProgress is how far the partitions read whole have got, after each
// round: reading every record of both clusters can take minutes, and an
// action that says nothing meanwhile looks hung.
type WholeProgress struct {
	// Round of Rounds is the round just read; Partitions are read whole in
	// all, Records read so far on both sides.
	Round, Rounds, Partitions int
	Records                   int64
}

// readWhole compares the partitions at whole by their kind, round by round,
// telling opts.Progress after each.
func (r *verifyRun) readWhole(ctx context.Context, whole []int) {
	hasher := newRecordHasher()
	rounds := r.rounds(whole)
	var records int64
	for i, round := range rounds {
		r.readRound(ctx, hasher, round)
		for _, j := range round {
			records += max(r.checks[j].SourceRecords, 0) + max(r.checks[j].TargetRecords, 0)
		}
		if r.opts.Progress != nil {
			r.opts.Progress(WholeProgress{Round: i + 1, Rounds: len(rounds), Partitions: len(whole), Records: records})
		}
	}
}

func (r *verifyRun) readRound(ctx context.Context, hasher recordHasher, round []int) {
	sRanges, tRanges := map[kafka.TopicPartition]offsetRange{}, map[kafka.TopicPartition]offsetRange{}
	sReads, tReads := map[kafka.TopicPartition]*partitionRead{}, map[kafka.TopicPartition]*partitionRead{}
	sKind, tKind := map[kafka.TopicPartition]topicKind{}, map[kafka.TopicPartition]topicKind{}
	for _, i := range round {
		stp, ttp := r.mirrored[i], r.targets[i]
		s, t := r.sEnds[stp], r.tEnds[ttp]
		sRanges[stp] = offsetRange{s.start, readEnd(s, r.flow.ReadCommitted)}
		tRanges[ttp] = offsetRange{t.start, t.stable}
		sReads[stp], tReads[ttp] = newPartitionRead(r.kinds[i]), newPartitionRead(r.kinds[i])
		sKind[stp], tKind[ttp] = r.kinds[i], r.kinds[i]
	}
	collect := func(reads map[kafka.TopicPartition]*partitionRead, kinds map[kafka.TopicPartition]topicKind) func(kafka.TopicPartition, kafka.Record) {
		return func(tp kafka.TopicPartition, rec kafka.Record) {
			k, pr := kinds[tp], reads[tp]
			pr.n++
			h := hashed{h: hasher.record(rec, !k.appendTime), off: rec.Offset}
			if k.compacted {
				pr.latest.put(hasher.key(rec.Key), h, rec.Value == nil)
			} else {
				pr.seq = append(pr.seq, h)
			}
		}
	}
	var sFailed, tFailed map[kafka.TopicPartition]error
	var wg sync.WaitGroup
	wg.Go(func() {
		sFailed = r.source.readRanges(ctx, sRanges, isolationOf(r.flow), collect(sReads, sKind))
	})
	wg.Go(func() { tFailed = r.target.readRanges(ctx, tRanges, readCommitted, collect(tReads, tKind)) })
	wg.Wait()
	for _, i := range round {
		stp, ttp := r.mirrored[i], r.targets[i]
		c := &r.checks[i]
		var errs []error
		if err := sFailed[stp]; err != nil {
			errs = append(errs, fmt.Errorf("source partition %s/%d: %w", stp.Topic, stp.Partition, err))
		}
		if err := tFailed[ttp]; err != nil {
			errs = append(errs, fmt.Errorf("target partition %s/%d: %w", ttp.Topic, ttp.Partition, err))
		}
		if len(errs) > 0 {
			c.Err = errors.Join(errs...)
			continue
		}
		sr, tr := sReads[stp], tReads[ttp]
		c.SourceRecords, c.TargetRecords = sr.n, tr.n
		if r.kinds[i].compacted {
			m := matchLatest(sr.latest, tr.latest)
			c.CountedBy, c.Keys, c.Sampled = CountedByKeys, m.Keys, int(m.Keys)
			c.proved, c.Why = m.Differ == 0, m.why()
			continue
		}
		m := matchSequences(sr.seq, tr.seq, sRanges[stp].from, tRanges[ttp].from)
		c.CountedBy, c.Sampled = CountedByRecords, int(m.Matched)
		c.Duplicates, c.SourceBefore, c.TargetBefore = m.Duplicates, m.SourceBefore, m.TargetBefore
		c.proved, c.Why = m.equal(), m.why()
	}
}

func newPartitionRead(k topicKind) *partitionRead {
	if k.compacted {
		return &partitionRead{latest: latest{}}
	}
	return &partitionRead{}
}
