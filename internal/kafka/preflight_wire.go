package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/IBM/sarama"
)

// ClusterInfo is one Metadata answer with the caller's authorized
// operations as bitfields (bit n set for AclOperation n), opsUnknown for a
// cluster or topic the broker gave none for (see hasOps).
type ClusterInfo struct {
	Meta       Meta
	ClusterOps int32
	TopicOps   map[string]int32
}

// ConfigResource is one config of one topic or broker.
type ConfigResource struct {
	Kind   sarama.ConfigResourceType
	Name   string
	Config string
}

func TopicConfig(topic, config string) ConfigResource {
	return ConfigResource{Kind: sarama.TopicResource, Name: topic, Config: config}
}

func BrokerConfig(broker int32, config string) ConfigResource {
	return ConfigResource{Kind: sarama.BrokerResource, Name: strconv.Itoa(int(broker)), Config: config}
}

// ConfigValue is one config's value and where it comes from (its source
// decides whether MM2 copies it to a topic it creates).
type ConfigValue struct {
	Value  string
	Source ConfigSource
	Err    error
}

// OpsUnknown is what Kafka puts in an authorized-operations field it was not
// asked to fill (Integer.MIN_VALUE).
const OpsUnknown = int32(-1 << 31)

// Protocol versions Preflight asks for; sarama lowers them to what each
// broker supports, and refuses any newer than protocolVersion (3.0) allows.
// All are still served by Kafka 4 (KIP-896 removed only older ones).
const (
	metadataOpsVersion     = 10 // v11 dropped the cluster's authorized operations (KIP-700)
	describeConfigsVersion = 4
	describeLogDirsVersion = 2 // v3, with its top-level error, needs Kafka 3.2
)

func (c *Cluster) DescribeCluster(ctx context.Context) (ClusterInfo, error) {
	var lastErr error = errors.New("no broker known")
	for _, b := range c.client.Brokers() {
		if err := b.Open(c.conf); err != nil && !errors.Is(err, sarama.ErrAlreadyConnected) {
			lastErr = err
			continue
		}
		req := &sarama.MetadataRequest{Version: metadataOpsVersion,
			IncludeClusterAuthorizedOperations: true, IncludeTopicAuthorizedOperations: true}
		c.count("Metadata")
		resp, err := await(ctx, func() (*sarama.MetadataResponse, error) { return b.GetMetadata(req) })
		if err != nil {
			if ctx.Err() != nil {
				return ClusterInfo{}, err
			}
			lastErr = err
			continue
		}
		info := ClusterInfo{Meta: c.learn(resp), ClusterOps: OpsUnknown, TopicOps: map[string]int32{}}
		if resp.Version >= 8 {
			info.ClusterOps = resp.ClusterAuthorizedOperations
		}
		for _, t := range resp.Topics {
			ops := OpsUnknown
			if resp.Version >= 8 {
				ops = t.TopicAuthorizedOperations
			}
			info.TopicOps[t.Name] = ops
		}
		return info, nil
	}
	return ClusterInfo{}, lastErr
}

func (c *Cluster) DescribeConfigs(ctx context.Context, id int32, rs []ConfigResource) (map[ConfigResource]ConfigValue, error) {
	b, err := c.broker(id)
	if err != nil {
		return nil, err
	}
	req := &sarama.DescribeConfigsRequest{Version: describeConfigsVersion}
	for _, r := range rs {
		req.Resources = append(req.Resources, &sarama.ConfigResource{Type: r.Kind, Name: r.Name, ConfigNames: []string{r.Config}})
	}
	c.count("DescribeConfigs")
	resp, err := await(ctx, func() (*sarama.DescribeConfigsResponse, error) { return b.DescribeConfigs(req) })
	if err != nil {
		return nil, err
	}
	out := make(map[ConfigResource]ConfigValue, len(rs))
	for _, r := range rs {
		for _, rr := range resp.Resources {
			if rr.Type != r.Kind || rr.Name != r.Name {
				continue
			}
			if kerr := sarama.KError(rr.ErrorCode); kerr != sarama.ErrNoError {
				out[r] = ConfigValue{Err: &sarama.DescribeConfigError{Err: kerr, ErrMsg: rr.ErrorMsg}}
				break
			}
			out[r] = ConfigValue{Err: fmt.Errorf("broker did not return %s", r.Config)}
			for _, e := range rr.Configs {
				if e.Name == r.Config {
					out[r] = ConfigValue{Value: e.Value, Source: ConfigSource(e.Source)}
				}
			}
		}
	}
	return out, nil
}

func (c *Cluster) DescribeLogDirs(ctx context.Context, id int32, tps []TopicPartition) (map[TopicPartition]int64, error) {
	b, err := c.broker(id)
	if err != nil {
		return nil, err
	}
	req := &sarama.DescribeLogDirsRequest{Version: describeLogDirsVersion}
	index := map[string]int{}
	for _, tp := range tps {
		i, ok := index[tp.Topic]
		if !ok {
			i = len(req.DescribeTopics)
			index[tp.Topic] = i
			req.DescribeTopics = append(req.DescribeTopics, sarama.DescribeLogDirsRequestTopic{Topic: tp.Topic})
		}
		req.DescribeTopics[i].PartitionIDs = append(req.DescribeTopics[i].PartitionIDs, tp.Partition)
	}
	c.count("DescribeLogDirs")
	resp, err := await(ctx, func() (*sarama.DescribeLogDirsResponse, error) { return b.DescribeLogDirs(req) })
	if err != nil {
		return nil, err
	}
	if resp.ErrorCode != sarama.ErrNoError {
		return nil, resp.ErrorCode
	}
	out := make(map[TopicPartition]int64, len(tps))
	for _, d := range resp.LogDirs {
		if d.ErrorCode != sarama.ErrNoError {
			continue // an offline dir: its partitions stay unanswered
		}
		for _, t := range d.Topics {
			for _, p := range t.Partitions {
				if !p.IsTemporary { // a future replica being moved between dirs is a copy
					out[TopicPartition{t.Topic, p.PartitionID}] += p.Size
				}
			}
		}
	}
	return out, nil
}
