package sandbox

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// TestMainScenario is the migration a user runs: two units, both relations,
// start-migration, production going on before and while MM2 copies. Then
// every record is on the target in the same topic, partition and order with
// the same key, value and headers; the source's consumer groups have offsets
// on the target; the source holds nothing the migration made; and MM2 ran as
// kafka on both units with its passwords only in the 0600 secrets file.
func TestMainScenario(t *testing.T) {
	begin := time.Now()
	m := newMigration(t, 2, nil)
	// COS watches the whole migration: a real Prometheus scrapes both units.
	o := m.relateCOS()

	topics := []struct {
		name           string
		partitions     int32
		before, during int
	}{
		{"orders", 6, 30000, 20000},
		{"payments", 3, 18000, 12000},
		{"audit.log", 1, 12000, 8000},
	}
	before, during := map[string]int{}, map[string]int{}
	var names []string
	for _, tp := range topics {
		m.createTopic(tp.name, tp.partitions)
		before[tp.name], during[tp.name] = tp.before, tp.during
		names = append(names, tp.name)
	}
	m.produceAll(before)

	// Consumers that have stopped somewhere in the source's history. MM2 keeps
	// a bounded number of offset syncs per partition, so a group far behind
	// the head (a few records into a long log) gets no translation: keep
	// them within the second half of the log written so far.
	groups := map[string]struct {
		topic   string
		offsets map[int32]int64
	}{
		"billing":     {"orders", map[int32]int64{0: 2500, 1: 3200, 2: 4000, 3: 4999, 4: 5000, 5: 3333}},
		"fraud-check": {"payments", map[int32]int64{0: 6000, 1: 6000, 2: 4321}},
		"auditor":     {"audit.log", map[int32]int64{0: 11000}},
	}
	for g, c := range groups {
		require.NoError(t, m.src.Commit(g, c.topic, c.offsets))
	}

	m.relate("source")
	m.relate("target")
	st := m.statuses()
	for _, u := range m.units() {
		assert.Equal(t, "active: ready: run start-migration", st[u], u)
	}

	untouched, err := m.src.Snapshot()
	require.NoError(t, err)
	m.startMigration()
	m.waitMirroring()

	// Production goes on while MM2 copies: wait until MM2 has copied something,
	// then write the rest.
	require.NoError(t, poll.Until(m.ctx, 90*time.Second, 500*time.Millisecond, func() (bool, error) {
		n, err := m.tgt.Count("orders")
		return err == nil && n > 0, nil
	}, "MM2 to copy the first records"))
	copied, _ := m.tgt.Count("orders")
	t.Logf("writing %v more records while MM2 copies (orders: %d of %d on the target)", during, copied, before["orders"])
	m.produceAll(during)
	m.waitCopied(3*time.Minute, names...)

	t.Run("Prometheus saw the copy and sees the backlog gone", func(t *testing.T) {
		o.waitValue(2*time.Minute, recordsBehind, func(v float64) bool { return v == 0 })
		for _, topic := range names {
			v, ok := o.value(fmt.Sprintf(`sum(mirrormaker_records_behind{topic=%q})`, topic))
			assert.True(t, ok && v == 0, "%s: records behind %v (present %v)", topic, v, ok)
		}
		// The copy rate the dashboard draws (MM2's own, over its last minute), at its highest
		// while MM2 copied.
		peak, ok := o.value(`max_over_time(sum(kafka_connect_mirror_source_connector_record_rate)[10m:5s])`)
		if !assert.True(t, ok && peak > 0, "copy rate while MM2 copied: %v", peak) {
			o.logScrapes()
		}
		t.Logf("Prometheus: records behind 0, peak copy rate %.0f records/s", peak)
		o.assertEveryUsedMetricScraped()
	})

	t.Run("every record is on the target, same partition, order, key, value and headers", func(t *testing.T) {
		total := 0
		for _, topic := range names {
			total += m.assertIdentical(t, topic)
			assert.Equal(t, m.src.ExpectedEnds(topic), mustEnds(t, m.tgt, topic), "%s: target end offsets", topic)
		}
		assert.Equal(t, 100000, total)
	})

	t.Run("consumer groups committed on the source have offsets on the target", func(t *testing.T) {
		begin := time.Now()
		missing := map[string]map[int32]int64{}
		err := poll.Until(m.ctx, 90*time.Second, time.Second, func() (bool, error) {
			clear(missing)
			for g, c := range groups {
				got, err := m.tgt.GroupOffsets(g, c.topic, m.partitions(c.topic))
				if err != nil {
					return false, nil
				}
				for p, want := range c.offsets {
					if off, ok := got[p]; !ok || off < 0 || off > want {
						if missing[g] == nil {
							missing[g] = map[int32]int64{}
						}
						missing[g][p] = off
					}
				}
			}
			return len(missing) == 0, nil
		}, "MM2 to sync the groups' offsets to the target")
		require.NoError(t, err, "groups without a translated offset (partition: target offset): %v", missing)
		for g, c := range groups {
			got, err := m.tgt.GroupOffsets(g, c.topic, m.partitions(c.topic))
			require.NoError(t, err)
			t.Logf("group %s on %s: source %v, target %v", g, c.topic, c.offsets, got)
		}
		t.Logf("groups synced %s after the records", time.Since(begin).Round(time.Millisecond))
	})

	t.Run("the migration created no topic, group or record on the source", func(t *testing.T) {
		after, err := m.src.Snapshot()
		require.NoError(t, err)
		assert.Equal(t, untouched.Topics, after.Topics, "topics on the source")
		slices.Sort(untouched.Groups)
		slices.Sort(after.Groups)
		assert.Equal(t, untouched.Groups, after.Groups, "groups on the source")
		for topic, ends := range after.Ends {
			if _, ours := during[topic]; ours {
				assert.Equal(t, m.src.ExpectedEnds(topic), ends, "%s: only the test's records on the source", topic)
			} else {
				assert.Equal(t, untouched.Ends[topic], ends, "%s: nothing written by the migration", topic)
			}
		}
	})

	t.Run("MM2 ran as kafka on both units with its passwords only in the 0600 secrets file", func(t *testing.T) {
		require.Len(t, m.units(), 2)
		m.assertPrivate(t)
	})
	t.Logf("main scenario on Kafka %s took %s", m.source.Dist.Version, time.Since(begin).Round(time.Millisecond))
}

// mustEnds is Kit.EndOffsets or a failed test.
func mustEnds(t *testing.T, tr *localkafka.Kit, topic string) map[int32]int64 {
	t.Helper()
	ends, err := tr.EndOffsets(topic)
	require.NoError(t, err)
	return ends
}
