package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/IBM/sarama"
)

// *Cluster speaks wire over sarama's broker-level calls, so that each call
// is exactly one request to one broker.
var _ wire = (*Cluster)(nil)

// await runs a blocking sarama call, returning early when ctx ends (the
// call itself ends at the read timeout).
func await[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

func (c *Cluster) count(kind string) {
	c.mu.Lock()
	c.sent[kind]++
	c.mu.Unlock()
}

// requestsSent is the number of requests Measure has sent through c, by
// kind, since the last call; it resets the counts.
func (c *Cluster) requestsSent() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.sent
	c.sent = map[string]int{}
	return out
}

// broker returns an open connection to broker id.
func (c *Cluster) broker(id int32) (*sarama.Broker, error) {
	b, err := c.client.Broker(id)
	if err == nil {
		return b, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.extra[id]
	if !ok {
		return nil, fmt.Errorf("cannot find broker %d: %w", id, err)
	}
	if err := b.Open(c.conf); err != nil && !errors.Is(err, sarama.ErrAlreadyConnected) {
		return nil, fmt.Errorf("cannot connect to broker %d: %w", id, err)
	}
	return b, nil
}

func (c *Cluster) metadata(ctx context.Context) (clusterMeta, error) {
	var lastErr error = errors.New("no broker known")
	for _, b := range c.client.Brokers() {
		if err := b.Open(c.conf); err != nil && !errors.Is(err, sarama.ErrAlreadyConnected) {
			lastErr = err
			continue
		}
		req := sarama.NewMetadataRequest(c.conf.Version, nil)
		c.count("Metadata")
		resp, err := await(ctx, func() (*sarama.MetadataResponse, error) { return b.GetMetadata(req) })
		if err != nil {
			if ctx.Err() != nil {
				return clusterMeta{}, err
			}
			lastErr = err
			continue
		}
		return c.learn(resp), nil
	}
	return clusterMeta{}, lastErr
}

// learn turns a Metadata answer into clusterMeta and remembers brokers the
// client does not know.
func (c *Cluster) learn(resp *sarama.MetadataResponse) clusterMeta {
	meta := clusterMeta{topics: map[string][]partitionMeta{}, topicErrs: map[string]error{}}
	c.mu.Lock()
	for _, b := range resp.Brokers {
		meta.brokers = append(meta.brokers, b.ID())
		if _, err := c.client.Broker(b.ID()); err != nil {
			if _, ok := c.extra[b.ID()]; !ok {
				c.extra[b.ID()] = b
			}
		}
	}
	c.mu.Unlock()
	for _, t := range resp.Topics {
		if !errors.Is(t.Err, sarama.ErrNoError) {
			if !errors.Is(t.Err, sarama.ErrUnknownTopicOrPartition) {
				meta.topicErrs[t.Name] = t.Err
			}
			continue
		}
		ps := make([]partitionMeta, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			pm := partitionMeta{id: p.ID, leader: p.Leader}
			if !errors.Is(p.Err, sarama.ErrNoError) && !errors.Is(p.Err, sarama.ErrReplicaNotAvailable) {
				pm.err = p.Err
			}
			ps = append(ps, pm)
		}
		meta.topics[t.Name] = ps
	}
	return meta
}

func (c *Cluster) listOffsets(ctx context.Context, id int32, at int64, committedOnly bool, tps []topicPartition) (map[topicPartition]offsetAnswer, error) {
	b, err := c.broker(id)
	if err != nil {
		return nil, err
	}
	req := sarama.NewOffsetRequest(c.conf.Version)
	if committedOnly {
		req.IsolationLevel = sarama.ReadCommitted
	}
	for _, tp := range tps {
		req.AddBlock(tp.topic, tp.partition, at, 1)
	}
	c.count("ListOffsets")
	resp, err := await(ctx, func() (*sarama.OffsetResponse, error) { return b.GetAvailableOffsets(req) })
	if err != nil {
		return nil, err
	}
	out := make(map[topicPartition]offsetAnswer, len(tps))
	for _, tp := range tps {
		blk := resp.GetBlock(tp.topic, tp.partition)
		switch {
		case blk == nil:
			continue
		case !errors.Is(blk.Err, sarama.ErrNoError):
			out[tp] = offsetAnswer{offset: -1, err: blk.Err}
		case req.Version == 0 && len(blk.Offsets) > 0:
			out[tp] = offsetAnswer{offset: blk.Offsets[0]}
		default:
			out[tp] = offsetAnswer{offset: blk.Offset}
		}
	}
	return out, nil
}

func (c *Cluster) listGroups(ctx context.Context, id int32) (map[string]string, error) {
	b, err := c.broker(id)
	if err != nil {
		return nil, err
	}
	req := &sarama.ListGroupsRequest{Version: 4}
	c.count("ListGroups")
	resp, err := await(ctx, func() (*sarama.ListGroupsResponse, error) { return b.ListGroups(req) })
	if err != nil {
		return nil, err
	}
	if !errors.Is(resp.Err, sarama.ErrNoError) {
		return nil, resp.Err
	}
	return resp.Groups, nil
}

func (c *Cluster) findCoordinator(ctx context.Context, group string) (int32, error) {
	c.count("FindCoordinator")
	b, err := await(ctx, func() (*sarama.Broker, error) {
		if err := c.client.RefreshCoordinator(group); err != nil {
			return nil, err
		}
		return c.client.Coordinator(group)
	})
	if err != nil {
		return -1, err
	}
	return b.ID(), nil
}

func (c *Cluster) fetchOffsets(ctx context.Context, id int32, groups []string) (map[string]groupOffsets, error) {
	b, err := c.broker(id)
	if err != nil {
		return nil, err
	}
	req := &sarama.OffsetFetchRequest{Version: 8, ConsumerGroup: groups[0]}
	for _, g := range groups {
		req.Groups = append(req.Groups, sarama.OffsetFetchRequestGroup{GroupId: g}) // nil partitions: all
	}
	c.count("OffsetFetch")
	resp, err := await(ctx, func() (*sarama.OffsetFetchResponse, error) { return b.FetchOffset(req) })
	if err != nil && req.Version < 8 && ctx.Err() == nil {
		return c.fetchOffsetsOneByOne(ctx, b, groups) // a broker before Kafka 3.0
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]groupOffsets, len(groups))
	for _, g := range resp.Groups {
		out[g.GroupId] = offsetsOf(g.Err, g.Blocks)
	}
	return out, nil
}

// fetchOffsetsOneByOne is OffsetFetch for brokers that take one group per
// request.
func (c *Cluster) fetchOffsetsOneByOne(ctx context.Context, b *sarama.Broker, groups []string) (map[string]groupOffsets, error) {
	out := make(map[string]groupOffsets, len(groups))
	for _, g := range groups {
		req := sarama.NewOffsetFetchRequest(c.conf.Version, g, nil)
		c.count("OffsetFetch")
		resp, err := await(ctx, func() (*sarama.OffsetFetchResponse, error) { return b.FetchOffset(req) })
		if err != nil {
			return nil, err
		}
		out[g] = offsetsOf(resp.Err, resp.Blocks)
	}
	return out, nil
}

func offsetsOf(groupErr sarama.KError, blocks map[string]map[int32]*sarama.OffsetFetchResponseBlock) groupOffsets {
	if !errors.Is(groupErr, sarama.ErrNoError) {
		return groupOffsets{err: groupErr}
	}
	o := groupOffsets{offsets: map[topicPartition]int64{}}
	for t, ps := range blocks {
		for p, blk := range ps {
			if errors.Is(blk.Err, sarama.ErrNoError) && blk.Offset >= 0 {
				o.offsets[topicPartition{t, p}] = blk.Offset
			}
		}
	}
	return o
}

func (c *Cluster) describeGroups(ctx context.Context, id int32, groups []string) (map[string]groupState, error) {
	b, err := c.broker(id)
	if err != nil {
		return nil, err
	}
	req := &sarama.DescribeGroupsRequest{Version: 5, Groups: groups}
	c.count("DescribeGroups")
	resp, err := await(ctx, func() (*sarama.DescribeGroupsResponse, error) { return b.DescribeGroups(req) })
	if err != nil {
		return nil, err
	}
	out := make(map[string]groupState, len(groups))
	for _, g := range resp.Groups {
		if !errors.Is(g.Err, sarama.ErrNoError) {
			out[g.GroupId] = groupState{err: g.Err}
			continue
		}
		out[g.GroupId] = groupState{state: g.State, members: len(g.Members)}
	}
	return out, nil
}

// fetchWait bounds how long a broker holds a Fetch for data; the reader only
// asks below the end offset, where data is already there.
const fetchWait = 100

// fetchMaxBytes bounds one Fetch answer.
const fetchMaxBytes = 64 << 20

func (c *Cluster) fetch(ctx context.Context, id int32, committedOnly bool, asks []fetchAsk) (map[topicPartition]fetched, error) {
	b, err := c.broker(id)
	if err != nil {
		return nil, err
	}
	req := &sarama.FetchRequest{Version: 12, MinBytes: 1, MaxWaitTime: fetchWait, MaxBytes: fetchMaxBytes,
		SessionID: 0, SessionEpoch: -1}
	if committedOnly {
		req.Isolation = sarama.ReadCommitted
	}
	for _, a := range asks {
		req.AddBlock(a.tp.topic, a.tp.partition, a.offset, a.maxBytes, -1)
	}
	c.count("Fetch")
	resp, err := await(ctx, func() (*sarama.FetchResponse, error) { return b.Fetch(req) })
	if err != nil {
		return nil, err
	}
	out := make(map[topicPartition]fetched, len(asks))
	for _, a := range asks {
		blk := resp.GetBlock(a.tp.topic, a.tp.partition)
		if blk == nil {
			continue
		}
		out[a.tp] = fetchedRecords(blk, a.offset)
	}
	return out, nil
}
