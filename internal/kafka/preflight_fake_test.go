package kafka

import (
	"context"
	"fmt"
	"strconv"

	"github.com/IBM/sarama"
)

// preflightFake extends fakeCluster with what Preflight asks beyond
// Measure: authorized operations, configs and log sizes. By default it is
// a cluster without an authorizer (every operation allowed, as Kafka then
// reports), whose brokers and topics keep Kafka's default
// message.max.bytes.
type preflightFake struct {
	*fakeCluster
	clusterOps int32
	topicOps   map[string]int32
	// brokerMax is every broker's message.max.bytes, from a static config.
	brokerMax int64
	// topicMax are topics' own max.message.bytes, with their source.
	topicMax map[string]configValue
	sizes    map[topicPartition]int64
}

// kafkaDefaultMaxMessageBytes is Kafka's default message.max.bytes.
const kafkaDefaultMaxMessageBytes = 1048588

// allClusterOps and allTopicOps are what a broker without an authorizer
// reports: every operation the resource supports.
var (
	allClusterOps = opsBits(sarama.AclOperationCreate, sarama.AclOperationClusterAction, sarama.AclOperationDescribeConfigs,
		sarama.AclOperationAlterConfigs, sarama.AclOperationIdempotentWrite, sarama.AclOperationAlter, sarama.AclOperationDescribe)
	allTopicOps = opsBits(sarama.AclOperationRead, sarama.AclOperationWrite, sarama.AclOperationCreate, sarama.AclOperationDescribe,
		sarama.AclOperationDelete, sarama.AclOperationAlter, sarama.AclOperationDescribeConfigs, sarama.AclOperationAlterConfigs)
)

func opsBits(ops ...sarama.AclOperation) int32 {
	var b int32
	for _, op := range ops {
		b |= 1 << op
	}
	return b
}

func newPreflightFake(brokers ...int32) *preflightFake {
	return &preflightFake{fakeCluster: newFakeCluster(brokers...), clusterOps: allClusterOps,
		topicOps: map[string]int32{}, brokerMax: kafkaDefaultMaxMessageBytes,
		topicMax: map[string]configValue{}, sizes: map[topicPartition]int64{}}
}

// setTopicMax gives topic its own max.message.bytes.
func (f *preflightFake) setTopicMax(topic string, n int64) {
	f.topicMax[topic] = configValue{value: strconv.FormatInt(n, 10), source: sarama.SourceTopic}
}

func (f *preflightFake) describeCluster(ctx context.Context) (clusterInfo, error) {
	meta, err := f.metadata(ctx)
	if err != nil {
		return clusterInfo{}, err
	}
	info := clusterInfo{meta: meta, clusterOps: f.clusterOps, topicOps: map[string]int32{}}
	for t := range meta.topics {
		info.topicOps[t] = allTopicOps
		if ops, ok := f.topicOps[t]; ok {
			info.topicOps[t] = ops
		}
	}
	return info, nil
}

func (f *preflightFake) describeConfigs(ctx context.Context, broker int32, rs []configResource) (map[configResource]configValue, error) {
	if err := f.call("DescribeConfigs", broker); err != nil {
		return nil, err
	}
	out := map[configResource]configValue{}
	for _, r := range rs {
		switch {
		case r.kind == sarama.BrokerResource && r.name != fmt.Sprint(broker):
			return nil, fmt.Errorf("broker %d asked for broker %s's configs", broker, r.name)
		case r.kind == sarama.BrokerResource:
			out[r] = configValue{value: strconv.FormatInt(f.brokerMax, 10), source: f.brokerMaxSource()}
		case f.topics[r.name] == nil:
			out[r] = configValue{err: sarama.ErrUnknownTopicOrPartition}
		default:
			v, ok := f.topicMax[r.name]
			if !ok {
				v = configValue{value: strconv.FormatInt(f.brokerMax, 10), source: f.brokerMaxSource()}
			}
			out[r] = v
		}
	}
	return out, nil
}

func (f *preflightFake) brokerMaxSource() sarama.ConfigSource {
	if f.brokerMax == kafkaDefaultMaxMessageBytes {
		return sarama.SourceDefault
	}
	return sarama.SourceStaticBroker
}

func (f *preflightFake) describeLogDirs(ctx context.Context, broker int32, tps []topicPartition) (map[topicPartition]int64, error) {
	if err := f.call("DescribeLogDirs", broker); err != nil {
		return nil, err
	}
	out := map[topicPartition]int64{}
	for _, tp := range tps {
		if f.leaderOf(tp) == broker {
			out[tp] = f.sizes[tp]
		}
	}
	return out, nil
}
