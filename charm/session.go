package charm

import (
	"context"
	"time"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/migration"
	"mirrormaker-k8s/internal/mm2"
)

// Session is a cutover's connection to both clusters, kept for the whole action so every step
// of the proof is asked of the same clients.
type Session interface {
	Measure(ctx context.Context, flow mm2.Flow) (migration.SyncView, error)
	Gates(ctx context.Context, flow mm2.Flow, groups []string) (migration.Gates, error)
	ExactOffsets(ctx context.Context, flow mm2.Flow, groups []string) ([]migration.GroupOffsets, error)
	WriteGroupOffsets(ctx context.Context, group string, offsets []migration.TargetOffset) error
	Quiet(ctx context.Context, flow mm2.Flow, period time.Duration) ([]migration.EndMove, error)
	Verify(ctx context.Context, flow mm2.Flow, sample int) (migration.Verification, error)
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

func (s *session) Measure(ctx context.Context, flow mm2.Flow) (migration.SyncView, error) {
	return migration.Measure(ctx, s.src, s.tgt, flow)
}

func (s *session) Gates(ctx context.Context, flow mm2.Flow, groups []string) (migration.Gates, error) {
	return migration.CutoverGates(ctx, s.src, s.tgt, flow, groups)
}

func (s *session) ExactOffsets(ctx context.Context, flow mm2.Flow, groups []string) ([]migration.GroupOffsets, error) {
	return migration.ExactOffsets(ctx, s.src, s.tgt, flow, groups)
}

func (s *session) WriteGroupOffsets(ctx context.Context, group string, offsets []migration.TargetOffset) error {
	return migration.WriteGroupOffsets(ctx, s.tgt, group, offsets)
}

func (s *session) Quiet(ctx context.Context, flow mm2.Flow, period time.Duration) ([]migration.EndMove, error) {
	return migration.Quiet(ctx, s.src, flow, period)
}

func (s *session) Verify(ctx context.Context, flow mm2.Flow, sample int) (migration.Verification, error) {
	return migration.VerifyPartitions(ctx, s.src, s.tgt, flow, sample)
}

func (s *session) Close() {
	s.src.Close()
	s.tgt.Close()
}
