package charm

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/migration"
)

// TestGivenTransientErrorsWhenCutoverThenAskedAgainWithinTheTimeout: a leader moving or a
// coordinator failing over in the middle of a cutover is waited out; an error that asking
// again cannot cure fails at once.
func TestGivenTransientErrorsWhenCutoverThenAskedAgainWithinTheTimeout(t *testing.T) {
	notLeader := fmt.Errorf("cannot read orders/1 at 0: %w", sarama.ErrNotLeaderForPartition)
	t.Run("gates: a coordinator moving is waited out", func(t *testing.T) {
		h := mirroring(t, 1)
		s := &fakeSession{gatesErr: []error{fmt.Errorf("cannot describe clusters: %w", sarama.ErrNotCoordinatorForConsumer)},
			gates: []migration.Gates{{Groups: []string{"billing"}}}, exact: billingExact()}
		h.kafka.session = s
		a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers"})
		require.False(t, a.Failed, a.FailMessage)
		assert.Contains(t, a.Logs[0], "waiting: checking the groups failed on a transient error, asking again")
	})
	t.Run("gates: a refusal fails at once", func(t *testing.T) {
		h := mirroring(t, 1)
		h.kafka.session = &fakeSession{gatesErr: []error{fmt.Errorf("cannot describe clusters: %w", sarama.ErrClusterAuthorizationFailed)}}
		a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers"})
		assert.True(t, a.Failed)
		assert.Contains(t, a.FailMessage, "cannot check the groups")
		assert.Empty(t, a.Logs)
	})
	t.Run("exact offsets: only the group that failed transiently is translated again", func(t *testing.T) {
		h := mirroring(t, 1)
		failed := billingExact()
		failed[0].Partitions[1].Err, failed[0].Partitions[1].Exact = notLeader, -1
		audit := migration.GroupOffsets{Group: "audit"}
		s := &fakeSession{gates: []migration.Gates{{Groups: []string{"audit", "billing"}}},
			exactSeq: [][]migration.GroupOffsets{append(failed, audit), billingExact()}}
		h.kafka.session = s
		a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers"})
		require.False(t, a.Failed, a.FailMessage)
		assert.Equal(t, [][]string{{"audit", "billing"}, {"billing"}}, s.asked["exact"])
		assert.Equal(t, "exact offsets written for 2 group(s): start their consumers on the target", a.Results["status"])
		assert.Contains(t, strings.Join(a.Logs, "\n"), "translating 1 group(s) failed on a transient error")
	})
	t.Run("exact offsets: an untranslatable partition is not asked again", func(t *testing.T) {
		h := mirroring(t, 1)
		failed := billingExact()
		failed[0].Partitions[1].Err = errors.New("cannot find the copy of source record orders/1@3")
		s := &fakeSession{gates: []migration.Gates{{Groups: []string{"billing"}}}, exact: failed}
		h.kafka.session = s
		a := h.action(h.unit(0), "cutover", map[string]any{"phase": "consumers"})
		assert.True(t, a.Failed)
		assert.Len(t, s.asked["exact"], 1)
	})
	t.Run("verify: a partition that could not be read for a leader moving is proved again", func(t *testing.T) {
		h := mirroring(t, 1)
		unread := equalCopy()
		unread.Equal, unread.Partitions[1].Equal, unread.Partitions[1].Err = false, false, notLeader
		h.kafka.session = &fakeSession{moves: [][]migration.EndMove{nil}, views: []migration.SyncView{lagView(0, 1)},
			verifySeq: []migration.Verification{unread, equalCopy()}}
		a := h.action(h.unit(0), "cutover", map[string]any{"phase": "producers"})
		require.False(t, a.Failed, a.FailMessage)
		assert.Contains(t, strings.Join(a.Logs, "\n"), "verifying 1 partition(s) failed on a transient error")
	})
}
