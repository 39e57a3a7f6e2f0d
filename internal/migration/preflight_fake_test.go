package migration

import (
	"context"
	"fmt"
	"strconv"

	"mirrormaker-k8s/internal/kafka"

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
	topicMax map[string]kafka.ConfigValue
	sizes    map[kafka.TopicPartition]int64
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
		topicMax: map[string]kafka.ConfigValue{}, sizes: map[kafka.TopicPartition]int64{}}
}

// setTopicMax gives topic its own max.message.bytes.
func (f *preflightFake) setTopicMax(topic string, n int64) {
	f.topicMax[topic] = kafka.ConfigValue{Value: strconv.FormatInt(n, 10), Source: kafka.ConfigFromTopic}
}

func (f *preflightFake) DescribeCluster(ctx context.Context) (kafka.ClusterInfo, error) {
	meta, err := f.Metadata(ctx)
	if err != nil {
		return kafka.ClusterInfo{}, err
	}
	info := kafka.ClusterInfo{Meta: meta, ClusterOps: f.clusterOps, TopicOps: map[string]int32{}}
	for t := range meta.Topics {
		info.TopicOps[t] = allTopicOps
		if ops, ok := f.topicOps[t]; ok {
			info.TopicOps[t] = ops
		}
	}
	return info, nil
}

func (f *preflightFake) DescribeConfigs(ctx context.Context, broker int32, rs []kafka.ConfigResource) (map[kafka.ConfigResource]kafka.ConfigValue, error) {
	if err := f.call("DescribeConfigs", broker); err != nil {
		return nil, err
	}
	out := map[kafka.ConfigResource]kafka.ConfigValue{}
	for _, r := range rs {
		switch {
		case r.Kind == sarama.BrokerResource && r.Name != fmt.Sprint(broker):
			return nil, fmt.Errorf("broker %d asked for broker %s's configs", broker, r.Name)
		case r.Kind == sarama.BrokerResource:
			out[r] = kafka.ConfigValue{Value: strconv.FormatInt(f.brokerMax, 10), Source: f.brokerMaxSource()}
		case f.topics[r.Name] == nil:
			out[r] = kafka.ConfigValue{Err: sarama.ErrUnknownTopicOrPartition}
		default:
			v, ok := f.topicMax[r.Name]
			if !ok {
				v = kafka.ConfigValue{Value: strconv.FormatInt(f.brokerMax, 10), Source: f.brokerMaxSource()}
			}
			out[r] = v
		}
	}
	return out, nil
}

func (f *preflightFake) brokerMaxSource() kafka.ConfigSource {
	if f.brokerMax == kafkaDefaultMaxMessageBytes {
		return kafka.ConfigFromDefault
	}
	return kafka.ConfigFromStaticBroker
}

func (f *preflightFake) DescribeLogDirs(ctx context.Context, broker int32, tps []kafka.TopicPartition) (map[kafka.TopicPartition]int64, error) {
	if err := f.call("DescribeLogDirs", broker); err != nil {
		return nil, err
	}
	out := map[kafka.TopicPartition]int64{}
	for _, tp := range tps {
		if f.leaderOf(tp) == broker {
			out[tp] = f.sizes[tp]
		}
	}
	return out, nil
}
