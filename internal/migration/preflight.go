package migration

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
)

// Problem is one reason not to start a migration, found by Preflight (or,
// for a cluster the charm could not even connect to, by DialProblem). It is
// worded for the operator who reads the action's output: String gives
// "target: topic old.orders: has 3 partitions, the source topic orders has 6".
type Problem struct {
	// Side is "source" or "target": the cluster to fix.
	Side string
	// Item names what is wrong on that side ("topic old.orders", "user",
	// "broker 2", "internal topics"), as the operator would look for it.
	Item string
	// Reason says what is wrong, with the figures to compare.
	Reason string
}

// String is the problem as one line of an action's output.
func (p Problem) String() string {
	if p.Item == "" {
		return p.Side + ": " + p.Reason
	}
	return p.Side + ": " + p.Item + ": " + p.Reason
}

// Plan is what start-migration would do and why it should not (yet): the
// figures the action reports, and every problem found. A migration may start
// only when Problems is empty; the figures are then complete. With problems,
// figures that could not be read are left out (Bytes is then a lower bound).
type Plan struct {
	// Topics are the source topics MM2 would mirror, by source name.
	Topics []PlannedTopic
	// Partitions and Bytes sum Topics.
	Partitions int
	Bytes      int64
	// Groups are the source consumer groups the flow's group filter selects,
	// by name: the groups whose positions MM2 would translate.
	Groups []string
	// Problems are sorted by side, item and reason, so the same clusters
	// give the same output.
	Problems []Problem
}

// OK reports that nothing stands in the way of starting MM2.
func (p Plan) OK() bool { return len(p.Problems) == 0 }

// PlannedTopic is one source topic MM2 would mirror.
type PlannedTopic struct {
	// Source and Target are the topic's names on either side (Target is
	// mm2.Flow.TargetTopic(Source)).
	Source, Target string
	Partitions     int32
	// Bytes is the size of the topic's data on the source: the sum, over its
	// partitions, of the leader replica's log size. Leaders only, so that the
	// figure is the data MM2 will copy once, not that times the replication
	// factor; it counts whole segments, so it includes records that
	// retention has not yet removed and index-free log overhead.
	Bytes int64
	// ExistsOnTarget reports that the target already has a topic of the
	// target name: MM2 will append to it rather than create it. False when
	// the target could not be asked.
	ExistsOnTarget bool
}

// PreflightOptions says what MM2 is about to be started with.
type PreflightOptions struct {
	Flow mm2.Flow
	// ReplicationFactor is MM2's replication.factor for the topics it
	// creates on the target; InternalReplicationFactor that of its internal
	// topics (offsets, configs, status, checkpoints, heartbeats, offset
	// syncs), all of which the charm keeps on the target. 0 means MM2's
	// default (2 and 3); -1 means the target broker's
	// default.replication.factor, which the broker itself enforces, so the
	// check is skipped.
	ReplicationFactor, InternalReplicationFactor int
}

// MM2's defaults for the replication factors (apache/kafka connect/mirror,
// its connectors' configs).
const (
	defaultReplicationFactor         = 2
	defaultInternalReplicationFactor = 3
)

// Preflight checks, before MM2 starts, everything that would make the
// migration fail or silently lose data, and collects every problem at once
// so the operator fixes them in one round: a user that is not an admin, a
// target with fewer brokers than the replication factor, a target topic with
// another partition count than its source, a filter that matches nothing, a
// target that would reject records the source accepts, and whatever could
// not be read. It writes nothing to either cluster.
//
// source or target may be nil when the charm could not connect to it (it
// then reports DialProblem's problem itself); the other side is still
// checked. The error is for when nothing could be checked: invalid options,
// no cluster, or neither cluster answering Metadata. Everything else is in
// Plan.Problems.
func (p *Pair) Preflight(ctx context.Context, opts PreflightOptions) (Plan, error) {
	source, target := p.Source, p.Target
	var src, tgt preflightWire
	if source != nil {
		src = source
	}
	if target != nil {
		tgt = target
	}
	return preflight(ctx, src, tgt, opts)
}

// preflightRun is one Preflight's inputs and what it has gathered.
type preflightRun struct {
	opts     PreflightOptions
	m        *mm2.Matcher
	problems *problemList

	src, tgt         preflightWire
	srcInfo, tgtInfo kafka.ClusterInfo
	srcOK, tgtOK     bool

	// mirrored are the source topics to mirror, by name.
	mirrored []string
	// sizes are the leaders' log sizes of mirrored partitions.
	sizes map[kafka.TopicPartition]int64
	// srcConfigs and tgtConfigs are the configs asked (see checkSizes).
	srcConfigs, tgtConfigs map[kafka.ConfigResource]kafka.ConfigValue
	groups                 []string
}

// preflight is Preflight over preflightWire, so tests can use fakes.
func preflight(ctx context.Context, src, tgt preflightWire, opts PreflightOptions) (Plan, error) {
	if opts.Flow.SourceAlias == "" {
		return Plan{}, errors.New("cannot run preflight: flow has no source alias")
	}
	if src == nil && tgt == nil {
		return Plan{}, errors.New("cannot run preflight: no cluster to check")
	}
	m, err := opts.Flow.Filter.Compile()
	if err != nil {
		return Plan{}, fmt.Errorf("cannot run preflight: %w", err)
	}
	r := &preflightRun{opts: opts, m: m, problems: &problemList{}, src: src, tgt: tgt}

	var srcErr, tgtErr error
	var wg sync.WaitGroup
	if src != nil {
		wg.Go(func() { r.srcInfo, srcErr = src.DescribeCluster(ctx) })
	}
	if tgt != nil {
		wg.Go(func() { r.tgtInfo, tgtErr = tgt.DescribeCluster(ctx) })
	}
	wg.Wait()
	r.srcOK, r.tgtOK = src != nil && srcErr == nil, tgt != nil && tgtErr == nil
	if !r.srcOK && !r.tgtOK {
		return Plan{}, fmt.Errorf("cannot run preflight: %w", errors.Join(
			sideErr("source", src != nil, srcErr), sideErr("target", tgt != nil, tgtErr)))
	}
	if src != nil && srcErr != nil {
		r.problems.add("source", "cluster", "cannot describe: "+srcErr.Error())
	}
	if tgt != nil && tgtErr != nil {
		r.problems.add("target", "cluster", "cannot describe: "+tgtErr.Error())
	}

	if r.srcOK {
		r.checkAdmin("source", r.srcInfo.ClusterOps)
		r.mirrored = r.mirroredTopics()
	}
	if r.tgtOK {
		r.checkAdmin("target", r.tgtInfo.ClusterOps)
		r.checkReplicationFactors()
	}
	if r.srcOK && r.tgtOK {
		r.checkTargetTopics()
	}
	r.gather(ctx)
	if r.srcOK && r.tgtOK {
		r.checkSizes()
	}
	return r.plan(), nil
}

func sideErr(side string, present bool, err error) error {
	if !present {
		return fmt.Errorf("no %s cluster", side)
	}
	return fmt.Errorf("cannot describe %s cluster: %w", side, err)
}

// gather sends, all in parallel, the requests whose answers the checks and
// the figures need: DescribeConfigs (one per broker), DescribeLogDirs (one
// per source leader) and the source's consumer groups (ListGroups per
// broker).
func (r *preflightRun) gather(ctx context.Context) {
	var wg sync.WaitGroup
	if r.srcOK && len(r.mirrored) > 0 {
		wg.Go(func() { r.srcConfigs = r.describeConfigs(ctx, "source", r.src, r.srcInfo.Meta, nil, r.mirrored) })
		wg.Go(func() { r.sizes = r.logSizes(ctx) })
	}
	if r.tgtOK {
		var existing []string
		for _, t := range r.mirrored {
			if name := r.opts.Flow.TargetTopic(t); r.tgtInfo.Meta.Topics[name] != nil {
				existing = append(existing, name)
			}
		}
		wg.Go(func() {
			r.tgtConfigs = r.describeConfigs(ctx, "target", r.tgt, r.tgtInfo.Meta, r.tgtInfo.Meta.Brokers, existing)
		})
	}
	if r.srcOK {
		wg.Go(func() {
			errs := &itemErrors{}
			r.groups = newSide("source", r.src, r.srcInfo.Meta, errs).listConsumerGroups(ctx, r.m.Group)
			r.problems.addItemErrors(errs)
		})
	}
	wg.Wait()
}

// plan assembles the result.
func (r *preflightRun) plan() Plan {
	p := Plan{Groups: r.groups}
	if p.Groups == nil {
		p.Groups = []string{}
	}
	for _, t := range r.mirrored {
		ps := r.srcInfo.Meta.Topics[t]
		pt := PlannedTopic{Source: t, Target: r.opts.Flow.TargetTopic(t), Partitions: int32(len(ps))}
		_, pt.ExistsOnTarget = r.tgtInfo.Meta.Topics[pt.Target]
		for _, part := range ps {
			pt.Bytes += r.sizes[kafka.TopicPartition{Topic: t, Partition: part.ID}]
		}
		p.Topics = append(p.Topics, pt)
		p.Partitions += len(ps)
		p.Bytes += pt.Bytes
	}
	p.Problems = r.problems.sorted()
	return p
}

// problemList collects problems from concurrent checks.
type problemList struct {
	mu   sync.Mutex
	list []Problem
}

func (l *problemList) add(side, item, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, Problem{Side: side, Item: item, Reason: reason})
}

// addItemErrors turns the ItemErrors of the helpers Measure shares
// ("source broker 2") into problems.
func (l *problemList) addItemErrors(errs *itemErrors) {
	for _, e := range errs.sorted() {
		side, item, _ := strings.Cut(e.Item, " ")
		l.add(side, item, e.Err.Error())
	}
}

// sorted is the problems by side, item and reason, each once.
func (l *problemList) sorted() []Problem {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]Problem{}, l.list...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Side != b.Side {
			return a.Side < b.Side
		}
		if a.Item != b.Item {
			return a.Item < b.Item
		}
		return a.Reason < b.Reason
	})
	return slices.Compact(out)
}
