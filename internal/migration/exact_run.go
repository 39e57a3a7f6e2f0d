package migration

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
)

// exactPosition is one group's position on one partition.
type exactPosition struct {
	group string
	tp    kafka.TopicPartition // source
	c     int64
}

// anchorKey is one anchor search: a source partition and a committed offset,
// shared by every group at that position.
type anchorKey struct {
	tp kafka.TopicPartition
	c  int64
}

// copyKey is one copy search: a target partition, the committed offset whose
// anchor it looks for, and the checkpoint it may start from.
type copyKey struct {
	tp         kafka.TopicPartition // target
	c          int64
	checkpoint int64
}

// exactRun is one translation, in the order its steps run: describe both
// clusters and read MM2's bookkeeping, collect every group's positions on
// mirrored partitions, list both logs' ends, search each anchor on the
// source, then each anchor's copy on the target, and conclude.
type exactRun struct {
	src, tgt configWire
	flow     mm2.Flow
	limit    ScanLimit
	m        *mm2.Matcher
	errs     *itemErrors // reported through the items they affect

	source, target *side
	st             mm2State

	out        []GroupOffsets
	groupIndex map[string]int
	positions  []exactPosition
	results    []PartitionOffset // one per position

	srcTPs, tgtTPs             map[kafka.TopicPartition]bool
	sStart, sEnd, tStart, tEnd map[kafka.TopicPartition]kafka.OffsetAnswer

	book    *Book
	kinds   map[string]topicKind // by source topic
	hasher  recordHasher
	anchors map[anchorKey]*anchorSearch
	copies  map[copyKey]*copySearch
}

func exactOffsets(ctx context.Context, src, tgt configWire, flow mm2.Flow, groups []string, limit ScanLimit, book *Book) ([]GroupOffsets, error) {
	if flow.SourceAlias == "" {
		return nil, errors.New("cannot translate offsets: flow has no source alias")
	}
	if limit.Offsets <= 0 || limit.Bytes <= 0 {
		return nil, errors.New("cannot translate offsets: scan limit must be positive")
	}
	m, err := flow.Filter.Compile()
	if err != nil {
		return nil, fmt.Errorf("cannot translate offsets: %w", err)
	}
	r := &exactRun{src: src, tgt: tgt, flow: flow, limit: limit, m: m, errs: &itemErrors{}, hasher: newRecordHasher(), book: book}
	srcMeta, tgtMeta, err := describeBoth(ctx, src, tgt)
	if err != nil {
		return nil, err
	}
	r.source, r.target = newSide("source", src, srcMeta, r.errs), newSide("target", tgt, tgtMeta, r.errs)
	if groups == nil {
		groups = r.source.listConsumerGroups(ctx, m.Group)
	}
	r.collectPositions(r.readGroupsAndProgress(ctx, sortedUnique(groups)))
	topics := map[string]string{}
	for tp := range r.srcTPs {
		topics[tp.Topic] = r.targetOf(tp).Topic
	}
	var wg sync.WaitGroup
	wg.Go(func() { r.kinds = readTopicKinds(ctx, r.source, r.target, src, tgt, topics) })
	wg.Go(func() { r.listEnds(ctx) })
	wg.Wait()
	r.searchAnchors(ctx)
	r.searchCopies(ctx)
	return r.conclude(), nil
}

// readGroupsAndProgress reads the groups' committed offsets on the source
// and MM2's bookkeeping on the target, side by side.
func (r *exactRun) readGroupsAndProgress(ctx context.Context, groups []string) groupsInfo {
	var srcGroups groupsInfo
	var internal map[string]*topicRead
	var wg sync.WaitGroup
	wg.Go(func() { srcGroups = r.source.describeGroups(ctx, groups) })
	wg.Go(func() {
		internal = r.target.readTopics(ctx, []string{r.flow.ConnectOffsetsTopic(), r.flow.CheckpointsTopic()}, r.book)
	})
	wg.Wait()
	r.st = mm2Progress(r.flow, internal, nil, r.errs)
	r.out = make([]GroupOffsets, len(groups))
	r.groupIndex = make(map[string]int, len(groups))
	for i, g := range groups {
		r.out[i].Group = g
		r.groupIndex[g] = i
	}
	return srcGroups
}

// collectPositions keeps each group's committed positions on mirrored
// partitions, in group then partition order; a group whose offsets cannot be
// read fails alone.
func (r *exactRun) collectPositions(srcGroups groupsInfo) {
	mirrored := make(map[kafka.TopicPartition]bool)
	for _, tp := range mirroredPartitions(r.source.meta, r.m, r.flow, r.errs) {
		mirrored[tp] = true
	}
	r.srcTPs, r.tgtTPs = map[kafka.TopicPartition]bool{}, map[kafka.TopicPartition]bool{}
	for i := range r.out {
		g := r.out[i].Group
		o := srcGroups.offsets[g]
		if o.Err != nil {
			r.out[i].Err = fmt.Errorf("cannot read committed offsets on the source: %w", o.Err)
			continue
		}
		for tp, c := range o.Offsets {
			if mirrored[tp] && c >= 0 {
				r.positions = append(r.positions, exactPosition{g, tp, c})
				r.srcTPs[tp] = true
				r.tgtTPs[r.targetOf(tp)] = true
			}
		}
	}
	sort.Slice(r.positions, func(i, j int) bool {
		a, b := r.positions[i], r.positions[j]
		if a.group != b.group {
			return a.group < b.group
		}
		return kafka.LessPartition(a.tp, b.tp)
	})
}

// targetOf is a source partition's copy on the target.
func (r *exactRun) targetOf(tp kafka.TopicPartition) kafka.TopicPartition {
	return kafka.TopicPartition{Topic: r.flow.TargetTopic(tp.Topic), Partition: tp.Partition}
}

// listEnds lists the log start and end of every partition involved, on both
// sides at once. The source's end is what MM2's consumer can read.
func (r *exactRun) listEnds(ctx context.Context) {
	srcTPs, tgtTPs := kafka.SortedPartitions(r.srcTPs), kafka.SortedPartitions(r.tgtTPs)
	var wg sync.WaitGroup
	wg.Go(func() {
		r.sStart = r.source.listOffsets(ctx, srcTPs, kafka.OffsetEarliest, readUncommitted)
	})
	wg.Go(func() {
		r.sEnd = r.source.listOffsets(ctx, srcTPs, kafka.OffsetLatest, isolationOf(r.flow))
	})
	wg.Go(func() {
		r.tStart = r.target.listOffsets(ctx, tgtTPs, kafka.OffsetEarliest, readCommitted)
	})
	wg.Go(func() {
		r.tEnd = r.target.listOffsets(ctx, tgtTPs, kafka.OffsetLatest, readCommitted)
	})
	wg.Wait()
}

// searchAnchors starts a result for every position and runs one anchor
// search per source partition and committed offset.
func (r *exactRun) searchAnchors(ctx context.Context) {
	srcSide := &scanSide{side: r.source, iso: isolationOf(r.flow)}
	r.anchors = make(map[anchorKey]*anchorSearch)
	r.results = make([]PartitionOffset, len(r.positions))
	var searches []search
	for i, p := range r.positions {
		r.results[i] = r.startResult(p)
		if r.results[i].Err != nil {
			continue
		}
		kind := r.kinds[p.tp.Topic]
		if kind.err != nil {
			r.results[i].Err = kind.err
			continue
		}
		k := anchorKey{p.tp, p.c}
		if _, ok := r.anchors[k]; !ok {
			a := &anchorSearch{side: srcSide, tp: p.tp, committed: p.c, start: r.sStart[p.tp].Offset, end: r.sEnd[p.tp].Offset,
				b: &budget{limit: r.limit, from: p.c}}
			if kind.compacted {
				a.following = map[uint64]int64{}
				a.hash = func(rec kafka.Record) uint64 { return r.hasher.record(rec, !kind.appendTime) }
			}
			r.anchors[k] = a
			searches = append(searches, a)
		}
	}
	runSearches(ctx, searches)
}

// startResult is a position's result before any search: MM2's checkpoint
// for it, or why it cannot be translated.
func (r *exactRun) startResult(p exactPosition) PartitionOffset {
	ttp := r.targetOf(p.tp)
	res := PartitionOffset{Topic: p.tp.Topic, TargetTopic: ttp.Topic, Partition: p.tp.Partition, SourceCommitted: p.c,
		CheckpointUpstream: -1, Checkpoint: -1, Exact: -1, ReplaysAvoided: -1, Anchor: -1, AnchorCopy: -1}
	if c, ok := r.st.checkpoints[checkpointKey{p.group, ttp}]; ok && r.st.checkpointErr == nil {
		res.CheckpointUpstream, res.Checkpoint = c.UpstreamOffset, c.DownstreamOffset
	}
	if err := errors.Join(r.sStart[p.tp].Err, r.sEnd[p.tp].Err); err != nil {
		res.Err = fmt.Errorf("cannot list source offsets: %w", err)
	} else if err := errors.Join(r.tStart[ttp].Err, r.tEnd[ttp].Err); err != nil {
		res.Err = fmt.Errorf("cannot list target offsets of %s/%d: %w", ttp.Topic, ttp.Partition, err)
	} else if p.c > r.sEnd[p.tp].Offset {
		res.Err = fmt.Errorf("cannot translate committed offset %d: past the source's %s %d", p.c, endName(r.flow.ReadCommitted), r.sEnd[p.tp].Offset)
	}
	return res
}

// usableCheckpoint is the checkpoint a copy search may start from: only one
// of an offset at or below the committed one bounds the copy's position.
func usableCheckpoint(res *PartitionOffset, c int64) int64 {
	if res.CheckpointUpstream >= 0 && res.CheckpointUpstream <= c {
		return res.Checkpoint
	}
	return -1
}

// copyKeyOf is the copy search a position's result needs.
func copyKeyOf(res *PartitionOffset, c int64) copyKey {
	return copyKey{kafka.TopicPartition{Topic: res.TargetTopic, Partition: res.Partition}, c, usableCheckpoint(res, c)}
}

// searchCopies runs one copy search per target partition, anchor and
// checkpoint, for every position whose anchor was found.
func (r *exactRun) searchCopies(ctx context.Context) {
	tgtSide := &scanSide{side: r.target, iso: readCommitted}
	r.copies = make(map[copyKey]*copySearch)
	var searches []search
	for i, p := range r.positions {
		res := &r.results[i]
		if res.Err != nil {
			continue
		}
		a := r.anchors[anchorKey{p.tp, p.c}]
		if a.err != nil {
			res.Err = fmt.Errorf("cannot find the record below %d on the source: %w", p.c, a.err)
			continue
		}
		k := copyKeyOf(res, p.c)
		if _, ok := r.copies[k]; !ok {
			ttp := k.tp
			cs := &copySearch{side: tgtSide, tp: ttp, start: r.tStart[ttp].Offset, end: r.tEnd[ttp].Offset,
				anchor: a.anchor, below: a.below != nil && a.below.found != nil, checkpoint: k.checkpoint, match: -1,
				withTime: !r.kinds[p.tp.Topic].appendTime, wanted: a.following, hash: a.hash, matchedSource: -1,
				b: &budget{limit: r.limit, from: max(k.checkpoint, r.tStart[ttp].Offset)}}
			r.copies[k] = cs
			searches = append(searches, cs)
		}
	}
	r.startAtTimestamps(ctx)
	runSearches(ctx, searches)
}

// startAtTimestamps moves the start of every copy search that MM2's
// checkpoint does not bound (a group it never checkpointed, or one that
// rewound) from the target's log start to the first target record stamped
// at or after its anchor: MM2 copies timestamps, so the copy is there or
// later, whatever the order of timestamps in the log. Not for a target
// stamping LogAppendTime, nor for a compacted topic's candidates.
func (r *exactRun) startAtTimestamps(ctx context.Context) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, cs := range r.copies {
		if cs.checkpoint >= 0 || cs.anchor == nil || !cs.withTime || cs.wanted != nil || cs.anchor.Timestamp < 0 {
			continue
		}
		p, ok := r.target.l[cs.tp]
		if !ok || p.Err != nil || p.Leader < 0 {
			continue // the search fails on it, saying so
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			got, err := r.tgt.ListOffsets(ctx, p.Leader, cs.anchor.Timestamp, false, []kafka.TopicPartition{cs.tp})
			if a, ok := got[cs.tp]; err == nil && ok && a.Err == nil && a.Offset > cs.start {
				cs.start = a.Offset // only this goroutine touches cs
				cs.b.from = a.Offset
			}
		})
	}
	wg.Wait()
}

// conclude fills each position's result from its searches and MM2's
// progress, and files it under its group.
func (r *exactRun) conclude() []GroupOffsets {
	for i, p := range r.positions {
		res := &r.results[i]
		if res.Err == nil {
			progress, copied := r.st.progress[p.tp]
			if !copied {
				progress = -1
			}
			conclude(res, r.anchors[anchorKey{p.tp, p.c}], r.copies[copyKeyOf(res, p.c)], progress, r.st.progressErr)
		}
		g := &r.out[r.groupIndex[p.group]]
		g.Partitions = append(g.Partitions, *res)
	}
	return r.out
}
