package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/IBM/sarama"
)

// preflightWire is the part of the protocol Preflight speaks beyond what
// Measure needs: the same one-call-one-request rule, so tests can count
// requests on a fake.
type preflightWire interface {
	wire
	// describeCluster is one Metadata request (v10, the last version that
	// carries them) for every topic, asking for the authorized operations
	// of the cluster and of each topic (KIP-430).
	describeCluster(ctx context.Context) (clusterInfo, error)
	// describeConfigs asks broker for one config of each resource; broker
	// resources must be sent to the broker they name.
	describeConfigs(ctx context.Context, broker int32, rs []configResource) (map[configResource]configValue, error)
	// describeLogDirs asks broker for the on-disk size of its replicas of
	// tps.
	describeLogDirs(ctx context.Context, broker int32, tps []topicPartition) (map[topicPartition]int64, error)
}

// clusterInfo is one Metadata answer with the caller's authorized
// operations as bitfields (bit n set for AclOperation n), opsUnknown for a
// cluster or topic the broker gave none for (see hasOps).
type clusterInfo struct {
	meta       clusterMeta
	clusterOps int32
	topicOps   map[string]int32
}

// configResource is one config of one topic or broker.
type configResource struct {
	kind   sarama.ConfigResourceType
	name   string
	config string
}

func topicConfig(topic, config string) configResource {
	return configResource{kind: sarama.TopicResource, name: topic, config: config}
}

func brokerConfig(broker int32, config string) configResource {
	return configResource{kind: sarama.BrokerResource, name: strconv.Itoa(int(broker)), config: config}
}

// configValue is one config's value and where it comes from (its source
// decides whether MM2 copies it to a topic it creates).
type configValue struct {
	value  string
	source sarama.ConfigSource
	err    error
}

// opsUnknown is what Kafka puts in an authorized-operations field it was not
// asked to fill (Integer.MIN_VALUE).
const opsUnknown = int32(-1 << 31)

// Protocol versions Preflight asks for; sarama lowers them to what each
// broker supports, and refuses any newer than protocolVersion (3.0) allows.
// All are still served by Kafka 4 (KIP-896 removed only older ones).
const (
	metadataOpsVersion     = 10 // v11 dropped the cluster's authorized operations (KIP-700)
	describeConfigsVersion = 4
	describeLogDirsVersion = 2 // v3, with its top-level error, needs Kafka 3.2
)

var _ preflightWire = (*Cluster)(nil)

func (c *Cluster) describeCluster(ctx context.Context) (clusterInfo, error) {
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
				return clusterInfo{}, err
			}
			lastErr = err
			continue
		}
		info := clusterInfo{meta: c.learn(resp), clusterOps: opsUnknown, topicOps: map[string]int32{}}
		if resp.Version >= 8 {
			info.clusterOps = resp.ClusterAuthorizedOperations
		}
		for _, t := range resp.Topics {
			ops := opsUnknown
			if resp.Version >= 8 {
				ops = t.TopicAuthorizedOperations
			}
			info.topicOps[t.Name] = ops
		}
		return info, nil
	}
	return clusterInfo{}, lastErr
}

func (c *Cluster) describeConfigs(ctx context.Context, id int32, rs []configResource) (map[configResource]configValue, error) {
	b, err := c.broker(id)
	if err != nil {
		return nil, err
	}
	req := &sarama.DescribeConfigsRequest{Version: describeConfigsVersion}
	for _, r := range rs {
		req.Resources = append(req.Resources, &sarama.ConfigResource{Type: r.kind, Name: r.name, ConfigNames: []string{r.config}})
	}
	c.count("DescribeConfigs")
	resp, err := await(ctx, func() (*sarama.DescribeConfigsResponse, error) { return b.DescribeConfigs(req) })
	if err != nil {
		return nil, err
	}
	out := make(map[configResource]configValue, len(rs))
	for _, r := range rs {
		for _, rr := range resp.Resources {
			if rr.Type != r.kind || rr.Name != r.name {
				continue
			}
			if kerr := sarama.KError(rr.ErrorCode); kerr != sarama.ErrNoError {
				out[r] = configValue{err: &sarama.DescribeConfigError{Err: kerr, ErrMsg: rr.ErrorMsg}}
				break
			}
			out[r] = configValue{err: fmt.Errorf("broker did not return %s", r.config)}
			for _, e := range rr.Configs {
				if e.Name == r.config {
					out[r] = configValue{value: e.Value, source: e.Source}
				}
			}
		}
	}
	return out, nil
}

func (c *Cluster) describeLogDirs(ctx context.Context, id int32, tps []topicPartition) (map[topicPartition]int64, error) {
	b, err := c.broker(id)
	if err != nil {
		return nil, err
	}
	req := &sarama.DescribeLogDirsRequest{Version: describeLogDirsVersion}
	index := map[string]int{}
	for _, tp := range tps {
		i, ok := index[tp.topic]
		if !ok {
			i = len(req.DescribeTopics)
			index[tp.topic] = i
			req.DescribeTopics = append(req.DescribeTopics, sarama.DescribeLogDirsRequestTopic{Topic: tp.topic})
		}
		req.DescribeTopics[i].PartitionIDs = append(req.DescribeTopics[i].PartitionIDs, tp.partition)
	}
	c.count("DescribeLogDirs")
	resp, err := await(ctx, func() (*sarama.DescribeLogDirsResponse, error) { return b.DescribeLogDirs(req) })
	if err != nil {
		return nil, err
	}
	if resp.ErrorCode != sarama.ErrNoError {
		return nil, resp.ErrorCode
	}
	out := make(map[topicPartition]int64, len(tps))
	for _, d := range resp.LogDirs {
		if d.ErrorCode != sarama.ErrNoError {
			continue // an offline dir: its partitions stay unanswered
		}
		for _, t := range d.Topics {
			for _, p := range t.Partitions {
				if !p.IsTemporary { // a future replica being moved between dirs is a copy
					out[topicPartition{t.Topic, p.PartitionID}] += p.Size
				}
			}
		}
	}
	return out, nil
}
