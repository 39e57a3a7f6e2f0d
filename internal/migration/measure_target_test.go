package migration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The exporter shows the copy's end next to the source's; a target topic MM2 has not created yet
// must leave that figure unknown without making the view partial.
func TestGivenTargetEndsAskedWhenMeasuredThenEachCopyHasItsEnd(t *testing.T) {
	src, tgt := migrationFixture()
	tgt.addTopic("old.orders", 4)
	for p, end := range []int64{100, 50, 0, 21} {
		tgt.setOffsets("old.orders", int32(p), 0, end)
	}
	// payments has no copy on the target yet.

	v, err := measure(context.Background(), src, tgt, testFlow, time.Now(), nil, true)
	require.NoError(t, err)
	assert.Empty(t, v.Errors)
	got := map[string]int64{}
	for _, p := range v.Partitions {
		got[fmt.Sprintf("%s/%d", p.Topic, p.Partition)] = p.TargetEnd
	}
	assert.Equal(t, map[string]int64{
		"orders/0": 100, "orders/1": 50, "orders/2": 0, "orders/3": 21,
		"payments/0": -1, "payments/1": -1,
	}, got)

	// The copy's ends cost one request per target broker (2 here), and nothing when not asked.
	tgt.calls = map[string]int{}
	_, err = measure(context.Background(), src, tgt, testFlow, time.Now(), nil, false)
	require.NoError(t, err)
	without := tgt.calls["ListOffsets"]
	tgt.calls = map[string]int{}
	_, err = measure(context.Background(), src, tgt, testFlow, time.Now(), nil, true)
	require.NoError(t, err)
	assert.Equal(t, without+2, tgt.calls["ListOffsets"], "%v", tgt.calls)
}
