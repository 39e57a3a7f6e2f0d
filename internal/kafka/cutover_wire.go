package kafka

import (
	"context"
	"errors"

	"github.com/IBM/sarama"
)

func (c *Cluster) CommitOffsets(ctx context.Context, id int32, group string, offsets map[TopicPartition]int64) (map[TopicPartition]error, error) {
	b, err := c.broker(id)
	if err != nil {
		return nil, err
	}
	req := sarama.NewOffsetCommitRequest(c.conf, group)
	for _, tp := range SortedPartitions(offsets) {
		req.AddBlockWithLeaderEpoch(tp.Topic, tp.Partition, offsets[tp], -1, 0, "")
	}
	c.count("OffsetCommit")
	resp, err := await(ctx, func() (*sarama.OffsetCommitResponse, error) { return b.CommitOffset(req) })
	if err != nil {
		return nil, err
	}
	out := make(map[TopicPartition]error, len(offsets))
	for tp := range offsets {
		kerr, ok := resp.Errors[tp.Topic][tp.Partition]
		switch {
		case !ok:
			out[tp] = errors.New("coordinator did not answer for partition")
		case !errors.Is(kerr, sarama.ErrNoError):
			out[tp] = kerr
		default:
			out[tp] = nil
		}
	}
	return out, nil
}
