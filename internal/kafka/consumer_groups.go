package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/IBM/sarama"
)

// Groups of the consumer protocol (KIP-848), which the classic group
// requests do not describe.

// apiConsumerGroupDescribe is ConsumerGroupDescribe's API key (KIP-848).
const apiConsumerGroupDescribe = 69

// speaks reports whether broker id advertises API key, asking it once per
// Cluster (ApiVersions): a broker that does not know a key may close the
// connection rather than answer.
func (c *Cluster) speaks(ctx context.Context, id int32, b *sarama.Broker, key int16) bool {
	c.mu.Lock()
	keys, known := c.apis[id]
	c.mu.Unlock()
	if !known {
		c.count("ApiVersions")
		resp, err := await(ctx, func() (*sarama.ApiVersionsResponse, error) {
			return b.ApiVersions(&sarama.ApiVersionsRequest{Version: 0})
		})
		if err != nil {
			return false
		}
		keys = make(map[int16]bool, len(resp.ApiKeys))
		for _, k := range resp.ApiKeys {
			keys[k.ApiKey] = true
		}
		c.mu.Lock()
		if c.apis == nil {
			c.apis = map[int32]map[int16]bool{}
		}
		c.apis[id] = keys
		c.mu.Unlock()
	}
	return keys[key]
}

// describeConsumerGroups describes groups of the consumer protocol (KIP-848,
// group.protocol=consumer, the default of Kafka 4's Java clients). The
// classic DescribeGroups cannot see them: Kafka 4.1 answers "Dead" with no
// member for a group that has live members, as for one that does not
// exist, and other versions answer GROUP_ID_NOT_FOUND. ConsumerGroupDescribe
// tells them apart; a group it does not know keeps the classic answer.
func (c *Cluster) describeConsumerGroups(ctx context.Context, b *sarama.Broker, groups []string, out map[string]GroupState) {
	mb, err := c.modernBroker(b)
	if err != nil {
		return
	}
	req := &sarama.ConsumerGroupDescribeRequest{Version: 0, GroupIDs: groups}
	c.count("ConsumerGroupDescribe")
	resp, err := await(ctx, func() (*sarama.ConsumerGroupDescribeResponse, error) { return mb.ConsumerGroupDescribe(req) })
	if err != nil {
		return
	}
	for _, g := range resp.Groups {
		if _, asked := out[g.GroupID]; !asked {
			continue
		}
		if !errors.Is(g.ErrorCode, sarama.ErrNoError) {
			continue // the classic answer says as much
		}
		out[g.GroupID] = GroupState{State: g.GroupState, Members: len(g.Members)}
	}
}

// modernVersion is the Kafka version a connection must announce for sarama
// to send ConsumerGroupDescribe (3.7). The cluster's own connections
// announce protocolVersion, so that sarama's own requests suit older
// brokers; this one is only opened to brokers that advertise the API.
var modernVersion = sarama.V3_7_0_0

// modernBroker is a second connection to b announcing modernVersion,
// opened on first use and closed with the Cluster.
func (c *Cluster) modernBroker(b *sarama.Broker) (*sarama.Broker, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if mb, ok := c.modern[b.Addr()]; ok {
		return mb, nil
	}
	conf := *c.conf
	conf.Version = modernVersion
	mb := sarama.NewBroker(b.Addr())
	if err := mb.Open(&conf); err != nil && !errors.Is(err, sarama.ErrAlreadyConnected) {
		return nil, fmt.Errorf("cannot connect to %s: %w", b.Addr(), err)
	}
	if c.modern == nil {
		c.modern = map[string]*sarama.Broker{}
	}
	c.modern[b.Addr()] = mb
	return mb, nil
}
