package migration

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"mirrormaker-k8s/internal/kafka"
)

// What kind of topic a partition belongs to decides what its copy can be
// proved equal by: a delete-policy log is a sequence, which retention cuts
// at different moments on the two sides and an unclean MM2 stop repeats
// runs of; a compacted log keeps only the latest record per key, which each
// side's cleaner chooses when to drop; a target topic that stamps
// LogAppendTime cannot carry the source's timestamps.

// configWire is what Verify speaks: the reads of wire, and the topic
// configs that say each topic's kind.
type configWire interface {
	wire
	DescribeConfigs(ctx context.Context, broker int32, rs []kafka.ConfigResource) (map[kafka.ConfigResource]kafka.ConfigValue, error)
}

const (
	topicCleanupPolicy = "cleanup.policy"
	topicTimestampType = "message.timestamp.type"
)

// topicKind is what a source topic and its copy are, for the proof.
type topicKind struct {
	// compacted: the source topic's cleanup.policy includes compact
	// ("compact" or "compact,delete").
	compacted bool
	// appendTime: the target topic stamps LogAppendTime, so timestamps are
	// left out of the comparison.
	appendTime bool
	err        error
}

// readKinds reads the kind of every partition whose check is still open.
func (r *verifyRun) readKinds(ctx context.Context) {
	topics := map[string]string{}
	for i, tp := range r.mirrored {
		if r.checks[i].Err == nil {
			topics[tp.Topic] = r.targets[i].Topic
		}
	}
	kinds := readTopicKinds(ctx, r.source, r.target, r.src, r.tgt, topics)
	r.kinds = make([]topicKind, len(r.mirrored))
	for i, tp := range r.mirrored {
		r.kinds[i] = kinds[tp.Topic]
	}
}

// readTopicKinds asks each side, in one DescribeConfigs request to its
// lowest-numbered broker, for the source topics' cleanup.policy and the
// target topics' message.timestamp.type. topics maps each source topic to
// its name on the target; the answer is by source topic.
func readTopicKinds(ctx context.Context, source, target *side, src, tgt configWire, topics map[string]string) map[string]topicKind {
	srcTopics, tgtTopics := map[string]bool{}, map[string]bool{}
	for s, t := range topics {
		srcTopics[s], tgtTopics[t] = true, true
	}
	var srcVals, tgtVals map[kafka.ConfigResource]kafka.ConfigValue
	var srcErr, tgtErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		tgtVals, tgtErr = topicConfigs(ctx, tgt, target.meta, tgtTopics, topicTimestampType)
	}()
	srcVals, srcErr = topicConfigs(ctx, src, source.meta, srcTopics, topicCleanupPolicy)
	<-done
	out := make(map[string]topicKind, len(topics))
	for s, t := range topics {
		var k topicKind
		policy, err := configOf(srcVals, srcErr, s, topicCleanupPolicy)
		if err != nil {
			k.err = fmt.Errorf("cannot read the source topic's %s: %w", topicCleanupPolicy, err)
		}
		stamp, err := configOf(tgtVals, tgtErr, t, topicTimestampType)
		if err != nil && k.err == nil {
			k.err = fmt.Errorf("cannot read %s's %s on the target: %w", t, topicTimestampType, err)
		}
		k.compacted = slices.Contains(strings.Split(policy, ","), "compact")
		k.appendTime = stamp == "LogAppendTime"
		out[s] = k
	}
	return out
}

// topicConfigs asks the lowest-numbered broker for config of every topic.
func topicConfigs(ctx context.Context, w configWire, meta kafka.Meta, topics map[string]bool, config string) (map[kafka.ConfigResource]kafka.ConfigValue, error) {
	if len(topics) == 0 {
		return nil, nil
	}
	if len(meta.Brokers) == 0 {
		return nil, fmt.Errorf("no broker to ask")
	}
	var rs []kafka.ConfigResource
	for _, t := range slices.Sorted(maps.Keys(topics)) {
		rs = append(rs, kafka.TopicConfig(t, config))
	}
	return w.DescribeConfigs(ctx, slices.Min(meta.Brokers), rs)
}

func configOf(vals map[kafka.ConfigResource]kafka.ConfigValue, err error, topic, config string) (string, error) {
	if err != nil {
		return "", err
	}
	v, ok := vals[kafka.TopicConfig(topic, config)]
	switch {
	case !ok:
		return "", fmt.Errorf("the broker did not describe it")
	case v.Err != nil:
		return "", v.Err
	}
	return v.Value, nil
}
