package migration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// TestGivenProductionShapedTopicsWhenVerifiedThenEachKindIsProved plays
// the producer phase's proof on a real broker against copies that are
// whole but differ as production copies do: a changelog whose cleaner ran
// on both sides, a topic whose log starts retention (DeleteRecords) moved
// differently on each side and whose copy repeats a run (an MM2 SIGKILLed
// before its offset flush), and a target topic stamping LogAppendTime.
// Each must be proved equal by what fits its kind, and a real difference
// in each must still be found.
func TestGivenProductionShapedTopicsWhenVerifiedThenEachKindIsProved(t *testing.T) {
	c := requireKafka(t, "kinds", map[string]string{"log.cleaner.backoff.ms": "100"})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	flow := mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true, ReadCommitted: true,
		Filter: mm2.Filter{Topics: []string{"changelog", "events", "stamped"}}}
	k := newKit(t, c)

	cleaned := cleanedChangelogs(t, ctx, c, []string{"changelog", "old.changelog"}, 50)
	require.Greater(t, cleaned[0][0].Offset, int64(0), "the source's cleaner removed records")

	k.createTopic("events", 1, false)
	k.createTopic("old.events", 1, false)
	require.NoError(t, k.CreateTopic("stamped", 1, nil))
	require.NoError(t, k.CreateTopic("old.stamped", 1, map[string]string{"message.timestamp.type": "LogAppendTime"}))
	k.waitTopics("events", "old.events", "stamped", "old.stamped")
	k.write("events", 0, msgs("e", 0, 100)...)
	k.write("old.events", 0, msgs("e", 0, 60)...)
	k.write("old.events", 0, msgs("e", 40, 60)...) // MM2 restarted from 40: 40..59 copied twice
	require.NoError(t, k.DeleteRecords("events", map[int32]int64{0: 30}))
	require.NoError(t, k.DeleteRecords("old.events", map[int32]int64{0: 50}))
	k.write("stamped", 0, msgs("s", 0, 40)...)
	k.write("old.stamped", 0, msgs("s", 0, 40)...)

	cl := mustDial(t, ctx, c)
	verify := func() map[string]PartitionCheck {
		t.Helper()
		v, err := verifyPartitions(ctx, cl, cl, flow, verifyOptions{SampleSize: 10})
		require.NoError(t, err)
		out := map[string]PartitionCheck{}
		for _, p := range v.Partitions {
			require.NoError(t, p.Err, p.Topic)
			out[p.Topic] = p
		}
		return out
	}
	got := verify()
	require.Len(t, got, 3)

	ch := got["changelog"]
	assert.True(t, ch.Equal, "%+v", ch)
	assert.Equal(t, CountedByKeys, ch.CountedBy)
	assert.Equal(t, int64(51), ch.Keys, "50 keys and the filler")

	ev := got["events"]
	assert.True(t, ev.Equal, "%+v", ev)
	assert.Equal(t, CountedByRecords, ev.CountedBy)
	assert.Equal(t, int64(70), ev.SourceRecords)
	assert.Equal(t, int64(20), ev.SourceBefore, "source records 30..49: the target's retention removed their copies")
	assert.Equal(t, int64(20), ev.Duplicates, "40..59 copied twice; the first copies of 40..49 are removed, not their repeats")
	assert.Equal(t, int64(50), int64(ev.Sampled), "50..99 matched in order")

	st := got["stamped"]
	assert.True(t, st.Equal, "%+v", st)
	assert.True(t, st.WithoutTimestamps)

	// A real difference in each is still found.
	k.send("old.changelog", 0, kv([]byte("key-007"), []byte("a value the source never had")))
	k.write("events", 0, msgs("e", 100, 5)...)
	k.write("old.events", 0, msgs("e", 100, 2)...)
	require.NoError(t, k.Send("old.stamped", 0, localkafka.Message{Key: []byte("stray"), Value: []byte("not from the source")}))
	got = verify()
	assert.False(t, got["changelog"].Equal)
	assert.Contains(t, got["changelog"].Why, "1 of 51 key(s) differ")
	assert.False(t, got["events"].Equal)
	assert.Equal(t, "3 source record(s) have no copy on the target, the first at offset 102", got["events"].Why)
	assert.False(t, got["stamped"].Equal)
	assert.Equal(t, "1 target record(s) copy no source record, the first at offset 40", got["stamped"].Why)
}
