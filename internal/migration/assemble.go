package migration

import (
	"errors"
	"fmt"
	"sort"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
)

// Turning the answers Measure gathered into a SyncView: pure functions of
// their inputs, tested without any cluster.

// mirroredPartitions are the source partitions flow replicates, sorted.
// Topics the source could not describe are reported and left out.
func mirroredPartitions(meta kafka.Meta, m *mm2.Matcher, flow mm2.Flow, errs *itemErrors) []kafka.TopicPartition {
	var out []kafka.TopicPartition
	for t, ps := range meta.Topics {
		if !m.Mirrored(flow, t) {
			continue
		}
		for _, p := range ps {
			out = append(out, kafka.TopicPartition{Topic: t, Partition: p.ID})
		}
	}
	for t, err := range meta.TopicErrs {
		if m.Mirrored(flow, t) {
			errs.add("source topic "+t, err)
		}
	}
	sort.Slice(out, func(i, j int) bool { return kafka.LessPartition(out[i], out[j]) })
	return out
}

// checkpointKey is the checkpoints topic's compaction key.
type checkpointKey struct {
	group string
	tp    kafka.TopicPartition // target-side topic
}

// mm2State is what MM2's internal topics say, with the reasons a part of it
// is unknown: progressErr when the Connect offsets could not all be read
// (any partition may hold any source partition's key, so then no progress
// is certain), checkpointErr likewise for the checkpoints.
type mm2State struct {
	progress      map[kafka.TopicPartition]int64 // source partition -> last replicated offset
	checkpoints   map[checkpointKey]mm2.Checkpoint
	progressErr   error
	checkpointErr error
}

// mm2Progress replays the internal topics read from the target: last
// record per key wins, a null value deletes the key. Records that cannot be
// decoded are reported and skipped.
func mm2Progress(flow mm2.Flow, read map[string]*topicRead, targetErr error, errs *itemErrors) mm2State {
	st := mm2State{progress: map[kafka.TopicPartition]int64{}, checkpoints: map[checkpointKey]mm2.Checkpoint{}}
	if targetErr != nil {
		st.progressErr, st.checkpointErr = targetErr, targetErr
		return st
	}
	offsetsTopic, checkpointsTopic := flow.ConnectOffsetsTopic(), flow.CheckpointsTopic()
	st.progressErr = readFailure(offsetsTopic, read[offsetsTopic])
	st.checkpointErr = readFailure(checkpointsTopic, read[checkpointsTopic])

	replay(read[offsetsTopic], func(p int32, r kafka.Record) {
		o, ok, err := mm2.DecodeConnectOffset(r.Key, r.Value)
		switch {
		case err != nil:
			errs.add(fmt.Sprintf("target record %s/%d@%d", offsetsTopic, p, r.Offset), err)
		case !ok || o.Cluster != flow.SourceAlias:
		case o.Tombstone:
			delete(st.progress, kafka.TopicPartition{Topic: o.Topic, Partition: o.Partition})
		default:
			st.progress[kafka.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.Offset
		}
	})
	replay(read[checkpointsTopic], func(p int32, r kafka.Record) {
		var c mm2.Checkpoint
		var err error
		if r.Value == nil {
			if c, err = mm2.DecodeCheckpointKey(r.Key); err == nil {
				delete(st.checkpoints, checkpointKey{c.Group, kafka.TopicPartition{Topic: c.Topic, Partition: c.Partition}})
				return
			}
		} else {
			c, err = mm2.DecodeCheckpoint(r.Key, r.Value)
		}
		if err != nil {
			errs.add(fmt.Sprintf("target record %s/%d@%d", checkpointsTopic, p, r.Offset), err)
			return
		}
		st.checkpoints[checkpointKey{c.Group, kafka.TopicPartition{Topic: c.Topic, Partition: c.Partition}}] = c
	})
	return st
}

// readFailure is the error that makes a whole internal topic uncertain.
func readFailure(topic string, r *topicRead) error {
	switch {
	case r == nil:
		return nil
	case r.err != nil:
		return fmt.Errorf("cannot read %s: %w", topic, r.err)
	case len(r.failed) == 0:
		return nil
	}
	return fmt.Errorf("cannot read all of %s (%d partitions failed)", topic, len(r.failed))
}

// replay calls fn for every record, partition by partition in offset order.
func replay(r *topicRead, fn func(int32, kafka.Record)) {
	if r == nil {
		return
	}
	ps := make([]int32, 0, len(r.records))
	for p := range r.records {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	for _, p := range ps {
		for _, rec := range r.records[p] {
			fn(p, rec)
		}
	}
}

// partitionLags computes each mirrored partition's lag by offset
// arithmetic (see lag).
func partitionLags(mirrored []kafka.TopicPartition, starts, ends map[kafka.TopicPartition]kafka.OffsetAnswer, st mm2State, errs *itemErrors) []PartitionLag {
	parts := make([]PartitionLag, 0, len(mirrored))
	for _, tp := range mirrored {
		s, e := starts[tp], ends[tp]
		pl := PartitionLag{Topic: tp.Topic, Partition: tp.Partition, SourceStart: s.Offset, SourceEnd: e.Offset, Committed: -1, Lag: -1}
		if c, ok := st.progress[tp]; ok {
			pl.Committed = c
		}
		switch {
		case s.Err != nil || e.Err != nil:
			pl.Err = errors.Join(s.Err, e.Err)
		case st.progressErr != nil:
			pl.Err = st.progressErr
		case pl.Committed >= e.Offset:
			// MM2 says it copied past the source's end: the topic was recreated (or truncated)
			// since, and the figure would clamp to 0 and read "in sync".
			pl.Err = fmt.Errorf("MM2's position %d is past the source's end %d: the topic was recreated or truncated since MM2 copied it",
				pl.Committed, e.Offset)
			errs.add(fmt.Sprintf("source partition %s/%d", tp.Topic, tp.Partition), pl.Err)
		default:
			pl.Lag = lag(s.Offset, e.Offset, pl.Committed)
		}
		parts = append(parts, pl)
	}
	return parts
}

// summarise fills the view's totals from its partitions and groups.
func (v *SyncView) summarise(flow mm2.Flow) {
	for _, p := range v.Partitions {
		if len(v.Topics) == 0 || v.Topics[len(v.Topics)-1].Topic != p.Topic {
			v.Topics = append(v.Topics, TopicLag{Topic: p.Topic, TargetTopic: flow.TargetTopic(p.Topic)})
		}
		tl := &v.Topics[len(v.Topics)-1]
		tl.Partitions++
		switch {
		case p.Lag < 0:
			tl.Unknown++
			v.PartitionsUnknown++
		case p.Lag == 0:
			v.PartitionsCaughtUp++
		default:
			tl.Lag += p.Lag
			v.RecordsBehind += p.Lag
		}
	}
	for _, g := range v.Groups {
		if g.Counted {
			v.GroupsCounted++
			if g.Synced {
				v.GroupsSynced++
			}
			if g.CutoverOnly {
				v.GroupsCutoverOnly++
			}
		}
	}
}

// unknownGroups answers for every group with err, for a side that could
// not be asked.
func unknownGroups(groups []string, err error) groupsInfo {
	info := groupsInfo{offsets: map[string]kafka.Committed{}, states: map[string]kafka.GroupState{}}
	for _, g := range groups {
		info.offsets[g] = kafka.Committed{Err: err}
		info.states[g] = kafka.GroupState{Err: err}
	}
	return info
}

// groupViews joins each group's source and target offsets with MM2's
// checkpoints and applies the Synced definition (see GroupView.Synced);
// starts are the source log starts, which tell a partition MM2 will never
// checkpoint.
func groupViews(flow mm2.Flow, mirrored []kafka.TopicPartition, starts map[kafka.TopicPartition]kafka.OffsetAnswer, groups []string, src, tgt groupsInfo, st mm2State, errs *itemErrors) []GroupView {
	isMirrored := make(map[kafka.TopicPartition]bool, len(mirrored))
	for _, tp := range mirrored {
		isMirrored[tp] = true
	}
	views := make([]GroupView, 0, len(groups))
	for _, g := range groups {
		v := GroupView{Group: g, SourceState: src.states[g].State, TargetState: tgt.states[g].State,
			SourceMembers: src.states[g].Members, TargetMembers: tgt.states[g].Members}
		for side, s := range map[string]kafka.GroupState{"source": src.states[g], "target": tgt.states[g]} {
			if s.Err != nil && !errors.Is(s.Err, errNoTarget) {
				errs.add(fmt.Sprintf("%s group %s", side, g), fmt.Errorf("cannot describe: %w", s.Err))
			}
		}
		so, to := src.offsets[g], tgt.offsets[g]
		if so.Err != nil {
			v.Err = so.Err
			errs.add("source group "+g, so.Err)
			views = append(views, v)
			continue
		}
		for tp, off := range so.Offsets {
			if !isMirrored[tp] || off < 0 {
				continue
			}
			gp := GroupPartition{Topic: tp.Topic, Partition: tp.Partition, SourceCommitted: off, TargetCommitted: -1}
			target := kafka.TopicPartition{Topic: flow.TargetTopic(tp.Topic), Partition: tp.Partition}
			if t, ok := to.Offsets[target]; ok {
				gp.TargetCommitted = t
			}
			if c, ok := st.checkpoints[checkpointKey{g, target}]; ok {
				gp.Checkpoint = &c
			}
			gp.Synced = groupPartitionSynced(gp)
			start := int64(-1) // unknown
			if s, ok := starts[tp]; ok && s.Err == nil {
				start = s.Offset
			}
			gp.Unsynced = unsyncedReason(gp, start)
			v.CutoverOnly = v.CutoverOnly || gp.Unsynced == UnsyncedBelowLogStart
			v.Partitions = append(v.Partitions, gp)
		}
		sort.Slice(v.Partitions, func(i, j int) bool {
			a, b := v.Partitions[i], v.Partitions[j]
			return kafka.LessPartition(kafka.TopicPartition{Topic: a.Topic, Partition: a.Partition}, kafka.TopicPartition{Topic: b.Topic, Partition: b.Partition})
		})
		v.Counted = len(v.Partitions) > 0
		switch {
		case to.Err != nil:
			v.Err = to.Err
			if !errors.Is(to.Err, errNoTarget) {
				errs.add("target group "+g, to.Err)
			}
		case st.checkpointErr != nil:
			v.Err = st.checkpointErr
		}
		v.Synced = v.Counted && v.Err == nil
		for _, gp := range v.Partitions {
			v.Synced = v.Synced && gp.Synced
		}
		views = append(views, v)
	}
	return views
}

// sorted is the collected errors in a stable order.
func (e *itemErrors) sorted() []ItemError {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := append([]ItemError(nil), e.list...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Item != out[j].Item {
			return out[i].Item < out[j].Item
		}
		return out[i].Err.Error() < out[j].Err.Error()
	})
	return out
}
