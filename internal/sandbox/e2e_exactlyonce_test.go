package sandbox

import (
	"math/rand/v2"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// eosKills is how many times the exactly-once test kills MM2.
const eosKills = 10

// TestExactlyOnceSurvivesRepeatedSIGKILL is issue 11's fourth scenario: on a running migration
// of 2 units, exactly-once is turned on as KIP-618 requires (preparing, rolled across the units,
// then enabled), then MM2's JVM is SIGKILLed on a random unit 10 times while producers write.
// Read as a read_committed consumer reads it, the target holds every source record once, in
// order: 0 lost, 0 duplicates.
func TestExactlyOnceSurvivesRepeatedSIGKILL(t *testing.T) {
	step := stepLogger(t)
	m := newMigration(t, 2, nil)
	const topic = "eos"
	m.mirrorPrefilled(topic, 4, 2000)

	for _, mode := range []string{mm2.ExactlyOncePreparing, mm2.ExactlyOnceEnabled} {
		require.NoError(t, m.sim.SetConfig(m.ctx, map[string]any{"exactly-once": mode}))
		m.waitMirroring()
		for _, u := range m.units() {
			props, err := os.ReadFile(podFile(m.pod(u), mm2.PropertiesPath))
			require.NoError(t, err)
			assert.Contains(t, string(props), ".exactly.once.source.support="+mode, u)
		}
		step("exactly-once %s on every unit", mode)
	}

	stop := produceInBackground(t, m.ctx, func() error { return m.src.Produce(topic, 40) })
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed))
	units := m.units()
	for i := range eosKills {
		u := units[rng.IntN(len(units))]
		pid := m.mm2PID(u)
		require.NotZero(t, pid, "%s: no MM2 to kill", u)
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		err := poll.Until(m.ctx, time.Minute, 200*time.Millisecond, func() (bool, error) {
			now := m.mm2PID(u)
			return now != 0 && now != pid && m.service(u).Current == client.StatusActive, nil
		}, "Pebble to restart MM2 on "+u)
		require.NoError(t, err)
		step("kill %d of %d: MM2 on %s (pid %d) killed and restarted (seed %d)", i+1, eosKills, u, pid, seed)
	}
	stop()

	var line string
	err := poll.Until(m.ctx, 3*time.Minute, time.Second, func() (bool, error) {
		line = m.statuses()[units[0]]
		return strings.HasPrefix(line, "active: in sync "), nil
	}, "the leader to say in sync")
	require.NoError(t, err, "last: %s", line)
	step("status: %s", line)

	// The target as a read_committed consumer sees it, read up to a sentinel written after
	// everything (its log ends in transaction markers, so no record sits at its end offset).
	src, err := m.src.ReadAll(m.ctx, topic)
	require.NoError(t, err)
	ends := mustEnds(t, m.tgt, topic)
	var records, offsets int64
	for p, want := range src {
		sentinel := "sentinel-" + topic
		require.NoError(t, m.tgt.Send(topic, p, localkafka.Message{Key: []byte(sentinel), Value: []byte("end")}))
		got, err := m.tgt.ReadCommitted(m.ctx, topic, p, sarama.OffsetOldest, func(r localkafka.Record) bool { return r.Key == sentinel })
		require.NoError(t, err)
		got = got[:len(got)-1]
		require.Len(t, got, len(want), "%s/%d: records on the target, read_committed (lost if fewer, duplicated if more)", topic, p)
		for i := range want {
			if !sameRecord(want[i], got[i]) {
				t.Fatalf("%s/%d: record %d differs:\n source %s\n target %s", topic, p, i, describeRecord(want[i]), describeRecord(got[i]))
			}
		}
		records += int64(len(want))
		offsets += ends[p]
	}
	assert.Greater(t, offsets, records, "no transaction marker on the target: MM2 did not write in transactions")
	step("%d records, each once on the target in order under read_committed, in %d offsets (transaction markers), after %d kills",
		records, offsets, eosKills)
}
