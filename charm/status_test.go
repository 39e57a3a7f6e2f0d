package charm

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks"
)

// The application status is what `juju status` shows first. Once the leader sets it, Juju keeps
// it until it is set again, so it must follow every change, not only the sync measurements.
func TestGivenLeaderWhenAnyHookThenApplicationStatusFollowsTheLeader(t *testing.T) {
	h := mirroringFrom(t, 2, lagView(0, 1))
	h.everywhere("update-status", nil)
	require.Contains(t, h.m.AppStatus.Message, "in sync", "the sync line, to begin with")

	a := h.action(h.unit(0), "stop-migration", nil)
	require.False(t, a.Failed, a.FailMessage)
	stopped := wantActive("migration stopped: run start-migration to resume")
	assert.Equal(t, stopped, h.m.AppStatus, "at once, after the action")
	h.peerChanged()
	h.everywhere("update-status", nil)
	assert.Equal(t, stopped, h.m.AppStatus, "and after update-status")

	for _, r := range h.m.Relations {
		if r.Endpoint == TargetEndpoint {
			h.hook(h.unit(0), "target-relation-broken", r, "")
			h.m.RemoveRelation(r.ID)
			break
		}
	}
	assert.Equal(t, hooks.StatusBlocked, h.m.AppStatus.Name, "blocked: %s", h.m.AppStatus.Message)
	assert.Contains(t, h.m.AppStatus.Message, "target")
}

// Other units need nothing of the leader's measurements: writing them to the peer data would
// fire relation-changed on every unit at every update-status.
func TestGivenMirroringWhenUpdateStatusThenNoPeerDataChanges(t *testing.T) {
	h := mirroringFrom(t, 3, lagView(1_000_000, 0))
	h.everywhere("update-status", nil)
	before := peerSnapshot(t, h)
	start := h.now
	for i, behind := range []int64{800_000, 500_000, 0} {
		h.now = start.Add(time.Duration(i+1) * time.Minute)
		h.kafka.view = lagView(behind, 1)
		h.everywhere("update-status", nil)
		assert.Equal(t, before, peerSnapshot(t, h), "update-status %d changed the peer data", i+1)
	}
	assert.Equal(t, wantActive("in sync 2 topics/12 partitions: 0 records behind; groups 1/1 synced"), h.m.AppStatus)

	h.now = h.now.Add(time.Minute)
	h.kafka.view = lagView(600_000, 1)
	h.hook(h.unit(0), "update-status", nil, "")
	h.now = h.now.Add(time.Minute)
	h.kafka.view = lagView(300_000, 1)
	h.hook(h.unit(0), "update-status", nil, "")
	assert.Contains(t, h.status(h.unit(0)).Message, "300,000 records behind, ETA 1m",
		"the leader still has its previous sample for the trend")
}

func TestGivenOldRevisionSyncKeysInPeerDataWhenLeaderRunsThenTheyAreDropped(t *testing.T) {
	h := mirroring(t, 2)
	peer := h.m.PeerRelation()
	peer.Bag(app)[keySyncLine] = "active in sync 1 topics/100 partitions: 0 records behind"
	peer.Bag(app)[keySyncSample] = "1764000000 0"
	h.hook(h.unit(0), "config-changed", nil, "")
	assert.NotContains(t, h.peerData(), keySyncLine)
	assert.NotContains(t, h.peerData(), keySyncSample)
}

// peerSnapshot is every databag of the peer relation, as JSON to compare.
func peerSnapshot(t *testing.T, h *harness) string {
	t.Helper()
	out, err := json.Marshal(h.m.PeerRelation().Data)
	require.NoError(t, err)
	return string(out)
}
