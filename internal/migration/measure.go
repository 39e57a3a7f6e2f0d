package migration

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
)

// errNoTarget stands for the target's answers when there is no target to
// ask.
var errNoTarget = errors.New("no target cluster")

// Measure takes one SyncView of flow: it reads the mirrored partitions'
// offsets and the selected groups from source, and MM2's progress, its
// checkpoints and the groups' translated offsets from target. target may be
// nil (not related yet): the view then has the source figures, every lag
// unknown.
//
// The error is for when nothing can be measured: an invalid flow, or a
// source that cannot even describe its topics. Everything else that fails
// (a broker, a partition, a group, the whole target) is named in the view's
// Errors and the view carries what could be measured.
func (p *Pair) Measure(ctx context.Context, flow mm2.Flow) (SyncView, error) {
	source, target := p.Source, p.Target
	if source == nil {
		return SyncView{}, errors.New("cannot measure: no source cluster")
	}
	var tgt wire
	if target != nil {
		tgt = target
	}
	return measure(ctx, source, tgt, flow, time.Now(), p.Book, p.TargetEnds)
}

// measure is Measure over the wire interface, so tests can use fakes.
func measure(ctx context.Context, src, tgt wire, flow mm2.Flow, now time.Time, book *Book, targetEnds bool) (SyncView, error) {
	if flow.SourceAlias == "" {
		return SyncView{}, errors.New("cannot measure: flow has no source alias")
	}
	m, err := flow.Filter.Compile()
	if err != nil {
		return SyncView{}, fmt.Errorf("cannot measure: %w", err)
	}
	view := SyncView{Taken: now}
	errs := &itemErrors{}

	var srcMeta, tgtMeta kafka.Meta
	var srcErr, tgtErr error
	var wg sync.WaitGroup
	wg.Go(func() { srcMeta, srcErr = src.Metadata(ctx) })
	if tgt != nil {
		wg.Go(func() { tgtMeta, tgtErr = tgt.Metadata(ctx) })
	}
	wg.Wait()
	if srcErr != nil {
		return SyncView{}, fmt.Errorf("cannot describe source cluster: %w", srcErr)
	}
	switch {
	case tgt == nil:
		tgtErr = errNoTarget
		errs.add("target", errNoTarget)
	case tgtErr != nil:
		tgtErr = fmt.Errorf("cannot describe target cluster: %w", tgtErr)
		errs.add("target", tgtErr)
	}

	mirrored := mirroredPartitions(srcMeta, m, flow, errs)
	source, target := newSide("source", src, srcMeta, errs), newSide("target", tgt, tgtMeta, errs)

	var starts, ends, tgtEnds map[kafka.TopicPartition]kafka.OffsetAnswer
	var internal map[string]*topicRead
	var groups []string
	var srcGroups, tgtGroups groupsInfo
	wg.Go(func() {
		starts = source.listOffsets(ctx, mirrored, kafka.OffsetEarliest, readUncommitted)
	})
	wg.Go(func() { ends = source.listOffsets(ctx, mirrored, kafka.OffsetLatest, readUncommitted) })
	if tgtErr == nil && targetEnds {
		wg.Go(func() { tgtEnds = targetEndOffsets(ctx, tgt, tgtMeta, flow, mirrored) })
	}
	if tgtErr == nil {
		wg.Go(func() {
			internal = target.readTopics(ctx, []string{flow.ConnectOffsetsTopic(), flow.CheckpointsTopic()}, book)
		})
	}
	wg.Go(func() {
		groups = source.listConsumerGroups(ctx, m.Group)
		var gwg sync.WaitGroup
		gwg.Go(func() { srcGroups = source.describeGroups(ctx, groups) })
		if tgtErr == nil {
			gwg.Go(func() { tgtGroups = target.describeGroups(ctx, groups) })
		}
		gwg.Wait()
	})
	wg.Wait()

	st := mm2Progress(flow, internal, tgtErr, errs)
	view.MirrorStarted = internal != nil && internal[flow.ConnectOffsetsTopic()].found
	view.Partitions = partitionLags(mirrored, starts, ends, st, errs)
	if targetEnds {
		setTargetEnds(view.Partitions, flow, tgtEnds)
	}
	settleTails(ctx, source, view.Partitions, isolationOf(flow))
	if tgtErr != nil {
		tgtGroups = unknownGroups(groups, tgtErr)
	}
	view.Groups = groupViews(flow, mirrored, starts, groups, srcGroups, tgtGroups, st, errs)
	view.summarise(flow)
	view.Errors = errs.sorted()
	return view, nil
}

// targetEndOffsets reads the end offset of each mirrored partition's copy on the target. What it
// cannot read is left unknown and is no error of the view: a target topic MM2 has not created
// yet is the normal start of a migration, and the lag does not rest on these figures.
func targetEndOffsets(ctx context.Context, tgt wire, meta kafka.Meta, flow mm2.Flow, mirrored []kafka.TopicPartition) map[kafka.TopicPartition]kafka.OffsetAnswer {
	onTarget := make([]kafka.TopicPartition, len(mirrored))
	for i, tp := range mirrored {
		onTarget[i] = kafka.TopicPartition{Topic: flow.TargetTopic(tp.Topic), Partition: tp.Partition}
	}
	quiet := newSide("target", tgt, meta, &itemErrors{})
	return quiet.listOffsets(ctx, onTarget, kafka.OffsetLatest, readUncommitted)
}

// setTargetEnds fills PartitionLag.TargetEnd from ends (keyed by target partition); -1 where
// unknown or not read.
func setTargetEnds(parts []PartitionLag, flow mm2.Flow, ends map[kafka.TopicPartition]kafka.OffsetAnswer) {
	for i := range parts {
		parts[i].TargetEnd = -1
		a, ok := ends[kafka.TopicPartition{Topic: flow.TargetTopic(parts[i].Topic), Partition: parts[i].Partition}]
		if ok && a.Err == nil {
			parts[i].TargetEnd = a.Offset
		}
	}
}
