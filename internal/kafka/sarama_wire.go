package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/IBM/sarama"
)

// *Cluster speaks wire over sarama's broker-level calls, so that each call
// is exactly one request to one broker.

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

// RequestsSent is the number of requests Measure has sent through c, by
// kind, since the last call; it resets the counts.
func (c *Cluster) RequestsSent() map[string]int {
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

func (c *Cluster) Metadata(ctx context.Context) (Meta, error) {
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
				return Meta{}, err
			}
			lastErr = err
			continue
		}
		return c.learn(resp), nil
	}
	return Meta{}, lastErr
}

// learn turns a Metadata answer into clusterMeta and remembers brokers the
// client does not know.
func (c *Cluster) learn(resp *sarama.MetadataResponse) Meta {
	meta := Meta{Topics: map[string][]PartitionMeta{}, TopicErrs: map[string]error{}}
	c.mu.Lock()
	for _, b := range resp.Brokers {
		meta.Brokers = append(meta.Brokers, b.ID())
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
				meta.TopicErrs[t.Name] = t.Err
			}
			continue
		}
		ps := make([]PartitionMeta, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			pm := PartitionMeta{ID: p.ID, Leader: p.Leader}
			if !errors.Is(p.Err, sarama.ErrNoError) && !errors.Is(p.Err, sarama.ErrReplicaNotAvailable) {
				pm.Err = p.Err
			}
			ps = append(ps, pm)
		}
		meta.Topics[t.Name] = ps
	}
	return meta
}

func (c *Cluster) ListOffsets(ctx context.Context, id int32, at int64, committedOnly bool, tps []TopicPartition) (map[TopicPartition]OffsetAnswer, error) {
	b, err := c.broker(id)
	if err != nil {
		return nil, err
	}
	req := sarama.NewOffsetRequest(c.conf.Version)
	if committedOnly {
		req.IsolationLevel = sarama.ReadCommitted
	}
	for _, tp := range tps {
		req.AddBlock(tp.Topic, tp.Partition, at, 1)
	}
	c.count("ListOffsets")
	resp, err := await(ctx, func() (*sarama.OffsetResponse, error) { return b.GetAvailableOffsets(req) })
	if err != nil {
		return nil, err
	}
	out := make(map[TopicPartition]OffsetAnswer, len(tps))
	for _, tp := range tps {
		blk := resp.GetBlock(tp.Topic, tp.Partition)
		switch {
		case blk == nil:
			continue
		case !errors.Is(blk.Err, sarama.ErrNoError):
			out[tp] = OffsetAnswer{Offset: -1, Err: blk.Err}
		case req.Version == 0 && len(blk.Offsets) > 0:
			out[tp] = OffsetAnswer{Offset: blk.Offsets[0]}
		default:
			out[tp] = OffsetAnswer{Offset: blk.Offset}
		}
	}
	return out, nil
}

func (c *Cluster) ListGroups(ctx context.Context, id int32) (map[string]string, error) {
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

func (c *Cluster) FindCoordinator(ctx context.Context, group string) (int32, error) {
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

func (c *Cluster) FetchOffsets(ctx context.Context, id int32, groups []string) (map[string]Committed, error) {
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
	out := make(map[string]Committed, len(groups))
	for _, g := range resp.Groups {
		out[g.GroupId] = offsetsOf(g.Err, g.Blocks)
	}
	return out, nil
}

// fetchOffsetsOneByOne is OffsetFetch for brokers that take one group per
// request.
func (c *Cluster) fetchOffsetsOneByOne(ctx context.Context, b *sarama.Broker, groups []string) (map[string]Committed, error) {
	out := make(map[string]Committed, len(groups))
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

func offsetsOf(groupErr sarama.KError, blocks map[string]map[int32]*sarama.OffsetFetchResponseBlock) Committed {
	if !errors.Is(groupErr, sarama.ErrNoError) {
		return Committed{Err: groupErr}
	}
	o := Committed{Offsets: map[TopicPartition]int64{}}
	for t, ps := range blocks {
		for p, blk := range ps {
			if errors.Is(blk.Err, sarama.ErrNoError) && blk.Offset >= 0 {
				o.Offsets[TopicPartition{t, p}] = blk.Offset
			}
		}
	}
	return o
}

func (c *Cluster) DescribeGroups(ctx context.Context, id int32, groups []string) (map[string]GroupState, error) {
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
	out := make(map[string]GroupState, len(groups))
	var unknown []string
	for _, g := range resp.Groups {
		switch {
		case errors.Is(g.Err, sarama.ErrGroupIDNotFound):
			unknown = append(unknown, g.GroupId)
			out[g.GroupId] = GroupState{Err: g.Err}
		case !errors.Is(g.Err, sarama.ErrNoError):
			out[g.GroupId] = GroupState{Err: g.Err}
		default:
			out[g.GroupId] = GroupState{State: g.State, Members: len(g.Members)}
			if g.State == "Dead" {
				unknown = append(unknown, g.GroupId)
			}
		}
	}
	if len(unknown) > 0 && c.speaks(ctx, id, b, apiConsumerGroupDescribe) {
		c.describeConsumerGroups(ctx, b, unknown, out)
	}
	return out, nil
}

// fetchWait bounds how long a broker holds a Fetch for data; the reader only
// asks below the end offset, where data is already there.
const fetchWait = 100

// fetchMaxBytes bounds one Fetch answer.
const fetchMaxBytes = 64 << 20

func (c *Cluster) Fetch(ctx context.Context, id int32, committedOnly bool, asks []FetchAsk) (map[TopicPartition]Fetched, error) {
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
		req.AddBlock(a.TP.Topic, a.TP.Partition, a.Offset, a.MaxBytes, -1)
	}
	c.count("Fetch")
	resp, err := await(ctx, func() (*sarama.FetchResponse, error) { return b.Fetch(req) })
	if err != nil {
		return nil, err
	}
	out := make(map[TopicPartition]Fetched, len(asks))
	for _, a := range asks {
		blk := resp.GetBlock(a.TP.Topic, a.TP.Partition)
		if blk == nil {
			continue
		}
		out[a.TP] = fetchedRecords(blk, a.Offset)
	}
	return out, nil
}
