package migration

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
)

// Gates is what stands between the operator and moving consumer groups to
// the target: everything that would make a translated offset wrong or a
// write of it fail. The cutover may proceed only when Open.
type Gates struct {
	// View is the measurement the gates were judged from.
	View SyncView
	// Groups are the groups judged.
	Groups []string
	// Blockers say, one item each, why the cutover cannot proceed yet,
	// sorted: "group billing still has 2 active members on the source",
	// "group billing is active on the target (Stable, 1 members)",
	// "partition orders/3 not yet copied up to committed offset 1234 (MM2
	// at 1200)", and what could not be measured.
	Blockers []string
	// Blocked holds, for each group something blocks, its own blockers
	// (also in Blockers). A blocker that is no group's own, such as a broker
	// that could not be measured, blocks every group and is in Blockers only.
	Blocked map[string][]string
}

// Open reports that nothing blocks the cutover.
func (g Gates) Open() bool { return len(g.Blockers) == 0 }

// Ready are the groups that may move now although others may not: every
// group without a blocker of its own, unless a blocker holds them all.
// Groups are independent: one that cannot move must not hold the others.
func (g Gates) Ready() []string {
	shared := map[string]bool{}
	for _, b := range g.Blockers {
		shared[b] = true
	}
	for _, bs := range g.Blocked {
		for _, b := range bs {
			delete(shared, b)
		}
	}
	if len(shared) > 0 {
		return nil
	}
	var ready []string
	for _, name := range g.Groups {
		if len(g.Blocked[name]) == 0 {
			ready = append(ready, name)
		}
	}
	return ready
}

// Gates judges whether groups (every group the flow counts, when
// nil) can be moved to the target now: each has no active member on the
// source (its committed offsets are final) nor on the target (Kafka rejects
// a commit into a live group, and MM2 syncs only empty ones), and for each
// partition it committed MM2 has copied the last record below the committed
// offset (Connect offset >= committed-1), so the exact translation can find
// its copy. A named group that is not found, or has committed nothing on
// mirrored partitions, blocks too: a typo must not pass as "nothing to do".
//
// One Measure, plus one read of the source when MM2's Connect offset is
// short of committed-1: transaction markers (and, for a read_committed
// MM2, aborted records) take offsets MM2 never copies, so when the
// remaining range is short (tailCheckMax offsets) it is read, and only
// records MM2 would copy block. The error is Measure's.
func (p *Pair) Gates(ctx context.Context, flow mm2.Flow, groups []string) (Gates, error) {
	view, err := p.Measure(ctx, flow)
	if err != nil {
		return Gates{}, err
	}
	return cutoverGates(ctx, p.Source, flow, view, groups), nil
}

// gatesRun is one cutoverGates' inputs and what it has found, so that
// each judgement is a step of its own.
type gatesRun struct {
	src  wire
	flow mm2.Flow
	// byName and lags index the view's groups and partitions.
	byName map[string]GroupView
	lags   map[kafka.TopicPartition]PartitionLag
	// need is the highest committed offset of a judged group per partition;
	// committed is each judged group's own.
	need      map[kafka.TopicPartition]int64
	committed map[kafka.TopicPartition]map[string]int64
	// blockers is the set of Gates.Blockers; blocked, each group's own.
	blockers map[string]bool
	blocked  map[string]map[string]bool
}

// block records reason as group's own blocker.
func (r *gatesRun) block(group, reason string) {
	r.blockers[reason] = true
	if r.blocked[group] == nil {
		r.blocked[group] = map[string]bool{}
	}
	r.blocked[group][reason] = true
}

// blockPartition blocks, on tp, every group whose committed offset MM2 has
// not copied up to: those above from (what MM2 has copied) and, when the
// first copyable record still missing is known (firstMissing >= 0), above
// it. mm2 is MM2's progress, for the message.
func (r *gatesRun) blockPartition(tp kafka.TopicPartition, from, firstMissing, mm2 int64) {
	for group, c := range r.committed[tp] {
		if c > from && (firstMissing < 0 || c > firstMissing) {
			r.block(group, notCopied(tp, c, mm2))
		}
	}
}

// cutoverGates judges view; src is read only for short uncopied ranges.
func cutoverGates(ctx context.Context, src wire, flow mm2.Flow, view SyncView, groups []string) Gates {
	g := Gates{View: view}
	r := &gatesRun{src: src, flow: flow,
		byName: make(map[string]GroupView, len(view.Groups)),
		lags:   make(map[kafka.TopicPartition]PartitionLag, len(view.Partitions)),
		need:   make(map[kafka.TopicPartition]int64), committed: make(map[kafka.TopicPartition]map[string]int64),
		blocked: make(map[string]map[string]bool)}
	for _, gv := range view.Groups {
		r.byName[gv.Group] = gv
	}
	if groups == nil {
		for _, gv := range view.Groups {
			if gv.Counted {
				groups = append(groups, gv.Group)
			}
		}
	}
	g.Groups = sortedUnique(groups)
	r.blockers = map[string]bool{}
	for reason, group := range measurementBlockers(view.Errors, g.Groups) {
		if group == "" {
			r.blockers[reason] = true
		} else {
			r.block(group, reason)
		}
	}
	for _, p := range view.Partitions {
		r.lags[kafka.TopicPartition{Topic: p.Topic, Partition: p.Partition}] = p
	}
	for _, name := range g.Groups {
		r.judgeGroup(name)
	}
	if ranges := r.uncopiedRanges(); len(ranges) > 0 {
		r.readUncopied(ctx, ranges)
	}
	for b := range r.blockers {
		g.Blockers = append(g.Blockers, b)
	}
	sort.Strings(g.Blockers)
	g.Blocked = make(map[string][]string, len(r.blocked))
	for group, bs := range r.blocked {
		for b := range bs {
			g.Blocked[group] = append(g.Blocked[group], b)
		}
		sort.Strings(g.Blocked[group])
	}
	return g
}

// judgeGroup blocks on group name's members and state on either side, and
// raises need to its committed offsets.
func (r *gatesRun) judgeGroup(name string) {
	gv, ok := r.byName[name]
	switch {
	case !ok:
		r.block(name, fmt.Sprintf("group %s not found on the source (or not selected by the flow's group filter)", name))
		return
	case !gv.Counted && gv.Err == nil:
		r.block(name, fmt.Sprintf("group %s has no committed offsets on mirrored partitions", name))
	}
	switch {
	case gv.SourceMembers > 0:
		r.block(name, fmt.Sprintf("group %s still has %d active members on the source", name, gv.SourceMembers))
	case gv.SourceState != "" && !idleState(gv.SourceState):
		r.block(name, fmt.Sprintf("group %s is %s on the source", name, gv.SourceState))
	}
	if gv.TargetMembers > 0 || (gv.TargetState != "" && !idleState(gv.TargetState)) {
		r.block(name, fmt.Sprintf("group %s is active on the target (%s, %d members)", name, gv.TargetState, gv.TargetMembers))
	}
	for _, gp := range gv.Partitions {
		tp := kafka.TopicPartition{Topic: gp.Topic, Partition: gp.Partition}
		if c, ok := r.need[tp]; !ok || gp.SourceCommitted > c {
			r.need[tp] = gp.SourceCommitted
		}
		if r.committed[tp] == nil {
			r.committed[tp] = map[string]int64{}
		}
		r.committed[tp][name] = gp.SourceCommitted
	}
}

// uncopiedRanges are the ranges between MM2's last copied offset and the
// committed offset: a short one is returned to be read, a long one blocks
// as it is.
func (r *gatesRun) uncopiedRanges() map[kafka.TopicPartition]offsetRange {
	ranges := make(map[kafka.TopicPartition]offsetRange)
	for tp, c := range r.need {
		p, ok := r.lags[tp]
		if !ok || p.Err != nil {
			continue // already a measurement error
		}
		from := max(p.Committed+1, p.SourceStart)
		if from >= c {
			continue
		}
		if c-from > tailCheckMax {
			r.blockPartition(tp, from, -1, p.Committed)
			continue
		}
		ranges[tp] = offsetRange{from, c}
	}
	return ranges
}

// readUncopied reads ranges on the source and blocks, on each, the groups
// committed past the first record MM2 would copy, or all of them when the
// range cannot be read.
func (r *gatesRun) readUncopied(ctx context.Context, ranges map[kafka.TopicPartition]offsetRange) {
	firstCopyable := make(map[kafka.TopicPartition]int64)
	failed := map[kafka.TopicPartition]error{}
	meta, err := r.src.Metadata(ctx)
	if err != nil {
		for tp := range ranges {
			failed[tp] = err
		}
	} else {
		failed = newSide("source", r.src, meta, &itemErrors{}).readRanges(ctx, ranges, isolationOf(r.flow),
			func(tp kafka.TopicPartition, rec kafka.Record) {
				if _, seen := firstCopyable[tp]; !seen {
					firstCopyable[tp] = rec.Offset // records come in offset order
				}
			})
	}
	for tp, rg := range ranges {
		if err := failed[tp]; err != nil {
			for group, c := range r.committed[tp] {
				if c > rg.from {
					r.block(group, fmt.Sprintf("partition %s/%d: cannot tell whether MM2 has copied up to committed offset %d: %v",
						tp.Topic, tp.Partition, c, err))
				}
			}
			continue
		}
		if first, ok := firstCopyable[tp]; ok {
			r.blockPartition(tp, rg.from, first, r.lags[tp].Committed)
		}
	}
}

// measurementBlockers are the view's errors that bear on the judged
// groups: one per item, leaving out groups not judged, and the groups of a
// side that could not be reached at all (its own item says it). Each maps
// to the group it is about, or to "" when it bears on every group.
func measurementBlockers(errs []ItemError, groups []string) map[string]string {
	judged := make(map[string]bool, len(groups))
	for _, g := range groups {
		judged[g] = true
	}
	unreachable := make(map[string]bool)
	for _, e := range errs {
		if e.Item == "source" || e.Item == "target" {
			unreachable[e.Item] = true
		}
	}
	out := make(map[string]string)
	seen := make(map[string]bool)
	for _, e := range errs { // sorted by item, then message
		side, group, ok := strings.Cut(e.Item, " group ")
		if ok && (!judged[group] || unreachable[side]) {
			continue
		}
		if !seen[e.Item] {
			seen[e.Item] = true
			out["cannot measure "+e.Error()] = group
		}
	}
	return out
}

func notCopied(tp kafka.TopicPartition, committed, mm2 int64) string {
	at := fmt.Sprintf("MM2 at %d", mm2)
	if mm2 < 0 {
		at = "MM2 has copied nothing"
	}
	return fmt.Sprintf("partition %s/%d not yet copied up to committed offset %d (%s)", tp.Topic, tp.Partition, committed, at)
}
