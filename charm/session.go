package charm

import (
	"context"
	"time"

	"mirrormaker-k8s/internal/migration"
	"mirrormaker-k8s/internal/mm2"
)

// Session is a cutover's connection to both clusters, kept for the whole action so every step
// of the proof is asked of the same clients.
type Session interface {
	Measure(ctx context.Context, flow mm2.Flow) (migration.SyncView, error)
	Gates(ctx context.Context, flow mm2.Flow, groups []string) (migration.Gates, error)
	ExactOffsets(ctx context.Context, flow mm2.Flow, groups []string, limit migration.ScanLimit) ([]migration.GroupOffsets, error)
	WriteGroupOffsets(ctx context.Context, group string, offsets []migration.TargetOffset) error
	CheckGroupOffsets(ctx context.Context, group string, offsets []migration.TargetOffset) error
	Quiet(ctx context.Context, flow mm2.Flow, period time.Duration) ([]migration.EndMove, error)
	// Verify tells progress after each round of the partitions it reads whole.
	Verify(ctx context.Context, flow mm2.Flow, sample int, progress func(migration.WholeProgress)) (migration.Verification, error)
	Close()
}
