package migration

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"unicode/utf16"

	"mirrormaker-k8s/internal/kafka"
)

// consumerOffsetsTopic holds every group's offsets; its partition count
// decides which broker coordinates a group.
const consumerOffsetsTopic = "__consumer_offsets"

// findCoordinatorParallel bounds the FindCoordinator requests in flight when
// coordinators cannot be computed from metadata.
const findCoordinatorParallel = 8

// groupsInfo is what one cluster says about a set of groups.
type groupsInfo struct {
	offsets map[string]kafka.Committed
	states  map[string]kafka.GroupState
}

// listConsumerGroups asks every broker (in parallel) for the groups it
// coordinates and keeps the consumer groups (protocol type "consumer", or
// "" for groups that only commit offsets) that match.
func (sd *side) listConsumerGroups(ctx context.Context, keep func(string) bool) []string {
	var mu sync.Mutex
	var wg sync.WaitGroup
	seen := make(map[string]bool)
	for _, b := range sd.meta.Brokers {
		wg.Go(func() {
			groups, err := sd.w.ListGroups(ctx, b)
			if err != nil {
				sd.errs.add(fmt.Sprintf("%s broker %d", sd.name, b), fmt.Errorf("cannot list groups: %w", err))
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for g, protocol := range groups {
				if (protocol == "consumer" || protocol == "") && keep(g) {
					seen[g] = true
				}
			}
		})
	}
	wg.Wait()
	out := make([]string, 0, len(seen))
	for g := range seen {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

// describeGroups fetches the committed offsets and the state of groups
// from their coordinators: one OffsetFetch and one DescribeGroups per
// coordinator, all in parallel. Groups whose coordinator had moved are
// asked again once, after a FindCoordinator.
func (sd *side) describeGroups(ctx context.Context, groups []string) groupsInfo {
	info := groupsInfo{offsets: make(map[string]kafka.Committed), states: make(map[string]kafka.GroupState)}
	if len(groups) == 0 {
		return info
	}
	coordinators := coordinatorsFromMeta(sd.meta, groups)
	var unknown []string
	for _, g := range groups {
		if _, ok := coordinators[g]; !ok {
			unknown = append(unknown, g)
		}
	}
	findCoordinators(ctx, sd.w, unknown, coordinators, info)

	retry := sd.askCoordinators(ctx, coordinators, info)
	if len(retry) > 0 {
		again := make(map[string]int32)
		findCoordinators(ctx, sd.w, retry, again, info)
		sd.askCoordinators(ctx, again, info)
	}
	return info
}

// askCoordinators sends each coordinator one OffsetFetch and one
// DescribeGroups for its groups. It returns the groups that answered that
// the broker is not (or not yet) their coordinator.
func (sd *side) askCoordinators(ctx context.Context, coordinators map[string]int32, info groupsInfo) []string {
	byBroker := make(map[int32][]string)
	for g, b := range coordinators {
		byBroker[b] = append(byBroker[b], g)
	}
	for _, gs := range byBroker {
		sort.Strings(gs)
	}
	var offsets kafka.Answers[string, kafka.Committed]
	var states kafka.Answers[string, kafka.GroupState]
	var wg sync.WaitGroup
	wg.Go(func() { offsets = kafka.AskBrokers(ctx, byBroker, sd.w.FetchOffsets) })
	wg.Go(func() { states = kafka.AskBrokers(ctx, byBroker, sd.w.DescribeGroups) })
	wg.Wait()
	offsets.EachFailed(func(b int32, err error) {
		sd.errs.add(brokerItem(sd.name, b), fmt.Errorf("cannot fetch group offsets: %w", err))
	})
	states.EachFailed(func(b int32, err error) {
		sd.errs.add(brokerItem(sd.name, b), fmt.Errorf("cannot describe groups: %w", err))
	})
	var retry []string
	offsets.Each(func(g string, a kafka.Answer[kafka.Committed]) {
		o := a.Value
		switch {
		case a.Err != nil:
			o = kafka.Committed{Err: fmt.Errorf("cannot fetch group offsets: %w", a.Err)}
		case !a.Answered:
			o = kafka.Committed{Err: errors.New("coordinator did not answer for group")}
		case isCoordinatorMoved(o.Err):
			retry = append(retry, g)
		}
		info.offsets[g] = o
	})
	states.Each(func(g string, a kafka.Answer[kafka.GroupState]) {
		st := a.Value
		switch {
		case a.Err != nil:
			st = kafka.GroupState{Err: fmt.Errorf("cannot describe groups: %w", a.Err)}
		case !a.Answered:
			st = kafka.GroupState{Err: errors.New("coordinator did not describe group")}
		}
		info.states[g] = st
	})
	sort.Strings(retry)
	return retry
}

// findCoordinators asks FindCoordinator for each group (bounded in
// parallel), filling into; a group whose coordinator cannot be found gets
// that error as its answer in info.
func findCoordinators(ctx context.Context, w wire, groups []string, into map[string]int32, info groupsInfo) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, findCoordinatorParallel)
	for _, g := range groups {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			b, err := w.FindCoordinator(ctx, g)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				err = fmt.Errorf("cannot find coordinator: %w", err)
				info.offsets[g] = kafka.Committed{Err: err}
				info.states[g] = kafka.GroupState{Err: err}
				return
			}
			into[g] = b
		})
	}
	wg.Wait()
}

func isCoordinatorMoved(err error) bool {
	return kafka.CoordinatorMoved(err)
}

// coordinatorsFromMeta computes each group's coordinator the way the broker
// chooses it: the leader of __consumer_offsets partition
// abs(javaHashCode(group)) % partitions. This spares one FindCoordinator
// request per group (sarama cannot batch them); a wrong guess only costs a
// NOT_COORDINATOR answer and a FindCoordinator. Groups are left out when the
// topic is not visible (not created yet, or not authorised).
func coordinatorsFromMeta(meta kafka.Meta, groups []string) map[string]int32 {
	out := make(map[string]int32, len(groups))
	ps := meta.Topics[consumerOffsetsTopic]
	leaderOf := make(map[int32]int32, len(ps))
	for _, p := range ps {
		if p.Err == nil && p.Leader >= 0 {
			leaderOf[p.ID] = p.Leader
		}
	}
	if len(ps) == 0 {
		return out
	}
	for _, g := range groups {
		if leader, ok := leaderOf[groupPartition(g, len(ps))]; ok {
			out[g] = leader
		}
	}
	return out
}

// groupPartition is Kafka's partitionFor(groupId): Utils.abs(hashCode) % n,
// where Utils.abs maps MinInt32 to 0 and hashCode is Java's String.hashCode
// over UTF-16 code units.
func groupPartition(group string, n int) int32 {
	var h int32
	for _, c := range utf16.Encode([]rune(group)) {
		h = 31*h + int32(c)
	}
	switch {
	case h == math.MinInt32:
		h = 0
	case h < 0:
		h = -h
	}
	return h % int32(n)
}
