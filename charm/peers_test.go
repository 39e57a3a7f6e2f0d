package charm

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"mirrormaker-k8s/hooks"
	"mirrormaker-k8s/internal/workload"
)

// Earlier and later revisions read each other's databags across an upgrade, so every stored
// value is pinned here byte for byte, written and read back.
func TestPeerEncodingsAreTheWireFormat(t *testing.T) {
	stamp := "2026-01-02T03:04:05Z"
	units := []struct {
		wire string
		acc  unitMM2
	}{
		{"active " + stamp, unitMM2{workload.StateActive, stamp}},
		{"backoff " + stamp, unitMM2{workload.StateBackoff, stamp}},
		{"inactive ", unitMM2{workload.StateInactive, ""}},
		{" " + stamp, unitMM2{workload.StateAbsent, stamp}},
	}
	for _, tt := range units {
		t.Run("mm2 "+tt.wire, func(t *testing.T) {
			assert.Equal(t, tt.wire, tt.acc.String())
			assert.Equal(t, tt.acc, parseUnitMM2(tt.wire))
		})
	}

	line := status{hooks.StatusWaiting, "in sync 1 topics/6 partitions: 0 records behind; MM2 down on u/1"}
	at := time.Unix(1764000000, 0)
	memos := []struct {
		name string
		memo syncMemo
		wire map[string]string
	}{
		{"line and sample", newSyncMemo(line, &sample{at: at, behind: 42}), map[string]string{
			"sync-status": "waiting in sync 1 topics/6 partitions: 0 records behind; MM2 down on u/1",
			"sync-sample": "1764000000 42",
		}},
		{"line only", newSyncMemo(line, nil), map[string]string{
			"sync-status": "waiting in sync 1 topics/6 partitions: 0 records behind; MM2 down on u/1",
		}},
	}
	for _, tt := range memos {
		t.Run("memo "+tt.name, func(t *testing.T) {
			assert.Equal(t, syncMemo(tt.wire), tt.memo)
			got, ok := tt.memo.line()
			assert.True(t, ok)
			assert.Equal(t, line, got)
		})
	}
	assert.Equal(t, &sample{at: at, behind: 42}, syncMemo{"sync-sample": "1764000000 42"}.sample())
	assert.Nil(t, syncMemo{}.sample())
	_, ok := syncMemo{"sync-status": "active"}.line()
	assert.False(t, ok, "a line without a message is no line")
}

func TestPeersReadTheApplicationDatabag(t *testing.T) {
	tests := []struct {
		name      string
		app       map[string]string
		migration migrationState
		migrating bool
		oldSync   bool
	}{
		{name: "fresh", app: nil, migration: migrationNone},
		{name: "started", app: map[string]string{"migration": "started", "migration-changed-at": "t"},
			migration: migrationStarted, migrating: true},
		{name: "stopped", app: map[string]string{"migration": "stopped"}, migration: migrationStopped},
		{name: "complete", app: map[string]string{"migration": "cutover-complete", "cutover-endpoints": "a:9092"},
			migration: migrationComplete},
		{name: "old sync keys", app: map[string]string{"sync-sample": "1 2"}, oldSync: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := peers{id: "cluster:1", app: tt.app}
			assert.Equal(t, tt.migration, p.migration())
			assert.Equal(t, tt.migrating, p.migrating())
			assert.Equal(t, tt.oldSync, p.hasOldSyncKeys())
			assert.Equal(t, tt.app["migration-changed-at"], p.changedAt())
			assert.Equal(t, tt.app["cutover-endpoints"], p.cutoverEndpoints())
		})
	}
}
