package migration

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"mirrormaker-k8s/internal/kafka"
)

// The checks Preflight runs on what the clusters answered.

// Config names: a topic's limit on a record batch, and the broker default
// that a topic without its own value takes.
const (
	topicMaxMessageBytes  = "max.message.bytes"
	brokerMessageMaxBytes = "message.max.bytes"
)

// requiredClusterOps are the cluster-level operations the charm's user
// needs on each side (Charmed Kafka's admin role, a super user, has them
// all). On the source MM2 lists every consumer group and reads topic ACLs to
// copy them (Describe). On the target it creates topics (Create), creates
// the ACLs it copies (Alter), lists groups and ACLs (Describe), and
// Preflight reads the brokers' message.max.bytes (DescribeConfigs). Topic
// and group permissions are checked per topic where the broker reports them.
var requiredClusterOps = map[string][]kafka.Operation{
	"source": {kafka.OpDescribe},
	"target": {kafka.OpCreate, kafka.OpAlter, kafka.OpDescribe, kafka.OpDescribeConfigs},
}

// requiredTopicOps are the operations MM2 needs on a source topic (read it,
// copy its configs) and on a target topic that already exists (write to it,
// sync its configs).
var requiredTopicOps = map[string][]kafka.Operation{
	"source": {kafka.OpRead, kafka.OpDescribeConfigs},
	"target": {kafka.OpWrite, kafka.OpDescribeConfigs, kafka.OpAlterConfigs},
}

// checkAdmin reports a user without the cluster operations MM2 needs.
func (r *preflightRun) checkAdmin(side string, ops int32) {
	if missing := kafka.MissingOps(ops, requiredClusterOps[side]...); len(missing) > 0 {
		r.problems.add(side, "user", fmt.Sprintf("is not an admin: lacks the cluster operations %s (relate with the admin role)",
			strings.Join(missing, ", ")))
	}
}

// mirroredTopics are the source topics the flow mirrors, sorted, reporting
// a filter that matches nothing and mirrored topics MM2 could not copy: not
// describable, without a leader, or not readable by the user.
func (r *preflightRun) mirroredTopics() []string {
	meta, flow := r.srcInfo.Meta, r.opts.Flow
	var out []string
	for t, ps := range meta.Topics {
		if !r.m.Mirrored(flow, t) {
			continue
		}
		out = append(out, t)
		for _, p := range ps {
			if p.Err != nil || p.Leader < 0 {
				reason := "has no leader"
				if p.Err != nil {
					reason += ": " + p.Err.Error()
				}
				r.problems.add("source", fmt.Sprintf("partition %s/%d", t, p.ID), reason)
			}
		}
		if missing := kafka.MissingOps(r.srcInfo.TopicOps[t], requiredTopicOps["source"]...); len(missing) > 0 {
			r.problems.add("source", "topic "+t, "the user lacks the operations "+strings.Join(missing, ", "))
		}
	}
	undescribed := 0
	for t, err := range meta.TopicErrs {
		if r.m.Mirrored(flow, t) {
			undescribed++
			r.problems.add("source", "topic "+t, "cannot describe: "+err.Error())
		}
	}
	slices.Sort(out)
	if len(out) == 0 && undescribed == 0 {
		f := flow.Filter
		r.problems.add("source", "topics", fmt.Sprintf("no topic to mirror: none matches topics %q without matching topics.exclude %q",
			strings.Join(f.Topics, ","), strings.Join(f.TopicsExclude, ",")))
	}
	return out
}

// checkReplicationFactors reports replication factors the target cannot
// place: a topic needs as many live brokers as replicas.
func (r *preflightRun) checkReplicationFactors() {
	brokers := len(r.tgtInfo.Meta.Brokers)
	for _, rf := range []struct {
		item      string
		factor, d int
	}{
		{"mirrored topics", r.opts.ReplicationFactor, defaultReplicationFactor},
		{"internal topics", r.opts.InternalReplicationFactor, defaultInternalReplicationFactor},
	} {
		factor := rf.factor
		if factor == 0 {
			factor = rf.d
		}
		if factor > 0 && factor > brokers {
			r.problems.add("target", rf.item, fmt.Sprintf("need replication factor %d, but the target has %s",
				factor, plural(brokers, "broker")))
		}
	}
}

// checkTargetTopics compares each mirrored topic with the topic of its
// target name, if the target has one. MM2 copies partition p of the source
// to partition p of the target, so the counts must be equal: with fewer,
// MM2 adds partitions to the existing topic and its keys no longer hash to
// where its records are; with more, producers moved to the target after
// the cutover hash keys to other partitions than the mirrored records,
// breaking per-key order.
func (r *preflightRun) checkTargetTopics() {
	src, tgt := r.srcInfo.Meta, r.tgtInfo.Meta
	for _, t := range r.mirrored {
		name := r.opts.Flow.TargetTopic(t)
		if err, ok := tgt.TopicErrs[name]; ok {
			r.problems.add("target", "topic "+name, "cannot describe: "+err.Error())
			continue
		}
		ps, ok := tgt.Topics[name]
		if !ok {
			continue
		}
		have, want := len(ps), len(src.Topics[t])
		switch {
		case have < want:
			r.problems.add("target", "topic "+name, fmt.Sprintf(
				"has %s, the source topic %s has %d: MM2 would add partitions, so keys would no longer map to the partitions their records are in",
				plural(have, "partition"), t, want))
		case have > want:
			r.problems.add("target", "topic "+name, fmt.Sprintf(
				"has %s, the source topic %s has %d: after the cutover keys would go to other partitions than their mirrored records",
				plural(have, "partition"), t, want))
		}
		if missing := kafka.MissingOps(r.tgtInfo.TopicOps[name], requiredTopicOps["target"]...); len(missing) > 0 {
			r.problems.add("target", "topic "+name, "the user lacks the operations "+strings.Join(missing, ", "))
		}
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// describeConfigs asks for message.max.bytes of each broker in brokers
// (each of its own broker) and max.message.bytes of topics (all of them of
// the lowest-numbered broker, within its request): one DescribeConfigs per
// broker, in parallel. A broker that cannot answer is reported; its
// resources are left out of the answer.
func (r *preflightRun) describeConfigs(ctx context.Context, side string, w preflightWire, meta kafka.Meta, brokers []int32, topics []string) map[kafka.ConfigResource]kafka.ConfigValue {
	out := map[kafka.ConfigResource]kafka.ConfigValue{}
	if len(meta.Brokers) == 0 {
		return out
	}
	asks := map[int32][]kafka.ConfigResource{}
	for _, b := range brokers {
		asks[b] = append(asks[b], kafka.BrokerConfig(b, brokerMessageMaxBytes))
	}
	first := slices.Min(meta.Brokers)
	for _, t := range topics {
		asks[first] = append(asks[first], kafka.TopicConfig(t, topicMaxMessageBytes))
	}
	answers := kafka.AskBrokers(ctx, asks, w.DescribeConfigs)
	answers.EachFailed(func(b int32, err error) {
		r.problems.add(side, fmt.Sprintf("broker %d", b), "cannot describe configs: "+err.Error())
	})
	answers.Each(func(res kafka.ConfigResource, a kafka.Answer[kafka.ConfigValue]) {
		switch {
		case a.Err != nil: // reported for its broker
		case a.Answered:
			out[res] = a.Value
		default:
			out[res] = kafka.ConfigValue{Err: fmt.Errorf("broker %d did not describe it", a.Broker)}
		}
	})
	return out
}

// logSizes asks each source leader once, in parallel, for the size of the
// mirrored partitions it leads.
func (r *preflightRun) logSizes(ctx context.Context) map[kafka.TopicPartition]int64 {
	var tps []kafka.TopicPartition
	for _, t := range r.mirrored {
		for _, p := range r.srcInfo.Meta.Topics[t] {
			tps = append(tps, kafka.TopicPartition{Topic: t, Partition: p.ID})
		}
	}
	out := map[kafka.TopicPartition]int64{}
	// Leaderless partitions were reported by mirroredTopics.
	batches := leadersOf(r.srcInfo.Meta).byLeader(tps, map[kafka.TopicPartition]error{})
	answers := kafka.AskBrokers(ctx, batches, r.src.DescribeLogDirs)
	answers.EachFailed(func(b int32, err error) {
		r.problems.add("source", fmt.Sprintf("broker %d", b), "cannot describe log dirs: "+err.Error())
	})
	answers.Each(func(tp kafka.TopicPartition, a kafka.Answer[int64]) {
		switch {
		case a.Err != nil: // reported for its broker
		case a.Answered:
			out[tp] = a.Value
		default:
			r.problems.add("source", fmt.Sprintf("partition %s/%d", tp.Topic, tp.Partition),
				fmt.Sprintf("size unknown: its leader, broker %d, did not report it", a.Broker))
		}
	})
	return out
}

// checkSizes reports mirrored topics whose records the target would reject
// as too large. The source accepts records up to the topic's effective
// max.message.bytes (its own value, else the broker's message.max.bytes:
// DescribeConfigs of the topic returns whichever applies). On the target:
//   - a topic that exists accepts its own effective max.message.bytes. MM2's
//     config sync may raise it later, but only after records have started to
//     flow, and never for a value the source takes from a static broker
//     default, so the current value is what counts;
//   - a topic MM2 creates gets the source's value when the source topic's
//     value is not a default (set on the topic, or a dynamic broker config):
//     MM2 copies such configs into CreateTopics (MirrorSourceConnector.
//     targetConfig excludes only defaults and static broker configs). Else it
//     gets the target brokers' message.max.bytes, the smallest of them, as a
//     partition's leader may be any broker.
//
// This assumes MM2's default config property filter, which does not
// exclude max.message.bytes.
func (r *preflightRun) checkSizes() {
	targetDefault, haveDefault := int64(0), false
	for _, b := range r.tgtInfo.Meta.Brokers {
		v, ok := r.tgtConfigs[kafka.BrokerConfig(b, brokerMessageMaxBytes)]
		if !ok {
			continue // the broker's failure is reported
		}
		n, err := configInt(v)
		if err != nil {
			r.problems.add("target", fmt.Sprintf("broker %d", b), fmt.Sprintf("cannot read %s: %v", brokerMessageMaxBytes, err))
			continue
		}
		if !haveDefault || n < targetDefault {
			targetDefault, haveDefault = n, true
		}
	}
	for _, t := range r.mirrored {
		sv, ok := r.srcConfigs[kafka.TopicConfig(t, topicMaxMessageBytes)]
		if !ok {
			continue
		}
		limit, err := configInt(sv)
		if err != nil {
			r.problems.add("source", "topic "+t, fmt.Sprintf("cannot read %s: %v", topicMaxMessageBytes, err))
			continue
		}
		name := r.opts.Flow.TargetTopic(t)
		if _, exists := r.tgtInfo.Meta.Topics[name]; exists {
			tv, ok := r.tgtConfigs[kafka.TopicConfig(name, topicMaxMessageBytes)]
			if !ok {
				continue
			}
			got, err := configInt(tv)
			switch {
			case err != nil:
				r.problems.add("target", "topic "+name, fmt.Sprintf("cannot read %s: %v", topicMaxMessageBytes, err))
			case got < limit:
				r.problems.add("target", "topic "+name, fmt.Sprintf(
					"accepts records up to %d bytes (max.message.bytes), the source topic %s up to %d", got, t, limit))
			}
			continue
		}
		if copiedByMM2(sv.Source) || !haveDefault {
			continue
		}
		if targetDefault < limit {
			r.problems.add("target", "topic "+name, fmt.Sprintf(
				"would be created accepting records up to %d bytes (the target brokers' message.max.bytes), the source topic %s accepts up to %d",
				targetDefault, t, limit))
		}
	}
}

// copiedByMM2 reports whether MM2 puts a source topic config of this origin
// into the topics it creates.
func copiedByMM2(s kafka.ConfigSource) bool {
	return s == kafka.ConfigFromTopic || s == kafka.ConfigFromDynamicBroker || s == kafka.ConfigFromDynamicDefaultBroker
}

func configInt(v kafka.ConfigValue) (int64, error) {
	if v.Err != nil {
		return 0, v.Err
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a number: %q", v.Value)
	}
	return n, nil
}
