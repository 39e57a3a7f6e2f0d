package charm

import (
	"context"
	"time"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
)

// Session is a cutover's connection to both clusters, kept for the whole action so every step
// of the proof is asked of the same clients.
type Session interface {
	Measure(ctx context.Context, flow kafka.Flow) (kafka.SyncView, error)
	Gates(ctx context.Context, flow kafka.Flow, groups []string) (kafka.Gates, error)
	ExactOffsets(ctx context.Context, flow kafka.Flow, groups []string) ([]kafka.GroupOffsets, error)
	WriteGroupOffsets(ctx context.Context, group string, offsets []kafka.TargetOffset) error
	Quiet(ctx context.Context, flow kafka.Flow, period time.Duration) ([]kafka.EndMove, error)
	Verify(ctx context.Context, flow kafka.Flow, sample int) (kafka.Verification, error)
	Close()
}

// Open dials both clusters for a cutover; either failing is a *ClusterError.
func (p KafkaProbe) Open(ctx context.Context, source, target mm2.Cluster) (Session, error) {
	dialCtx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	src, err := kafka.Dial(dialCtx, accessOf(source))
	if err != nil {
		return nil, &ClusterError{Side: "source", Err: err}
	}
	tgt, err := kafka.Dial(dialCtx, accessOf(target))
	if err != nil {
		src.Close()
		return nil, &ClusterError{Side: "target", Err: err}
	}
	return &session{src: src, tgt: tgt}, nil
}

type session struct{ src, tgt *kafka.Cluster }

func (s *session) Measure(ctx context.Context, flow kafka.Flow) (kafka.SyncView, error) {
	return kafka.Measure(ctx, s.src, s.tgt, flow)
}

func (s *session) Gates(ctx context.Context, flow kafka.Flow, groups []string) (kafka.Gates, error) {
	return kafka.CutoverGates(ctx, s.src, s.tgt, flow, groups)
}

func (s *session) ExactOffsets(ctx context.Context, flow kafka.Flow, groups []string) ([]kafka.GroupOffsets, error) {
	return kafka.ExactOffsets(ctx, s.src, s.tgt, flow, groups)
}

func (s *session) WriteGroupOffsets(ctx context.Context, group string, offsets []kafka.TargetOffset) error {
	return kafka.WriteGroupOffsets(ctx, s.tgt, group, offsets)
}

func (s *session) Quiet(ctx context.Context, flow kafka.Flow, period time.Duration) ([]kafka.EndMove, error) {
	return kafka.Quiet(ctx, s.src, flow, period)
}

func (s *session) Verify(ctx context.Context, flow kafka.Flow, sample int) (kafka.Verification, error) {
	return kafka.VerifyPartitions(ctx, s.src, s.tgt, flow, sample)
}

func (s *session) Close() {
	s.src.Close()
	s.tgt.Close()
}
