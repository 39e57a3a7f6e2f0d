package sandbox

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/logtail"
	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/jujusim"
	"mirrormaker-k8s/internal/sandbox/localkafka"
	"mirrormaker-k8s/internal/workload"
)

// The leader's sync line, as charm/sync.go writes it:
//
//	mirroring 3 topics/18 partitions: starting, 60,000 records to copy; groups 0/3 synced
//	mirroring 3 topics/18 partitions: 116,000 records behind, ETA 6m; groups 0/3 synced
//	in sync 3 topics/18 partitions: 0 records behind; groups 3/3 synced
var (
	syncLineRE   = regexp.MustCompile(`^(mirroring|in sync) (\d+) topics/(\d+) partitions: (?:lag unknown|(?:starting, )?([0-9,]+) records (?:behind|to copy))`)
	syncGroupsRE = regexp.MustCompile(`; groups (\d+)/(\d+) synced`)
)

// syncLine is one parsed sync line.
type syncLine struct {
	phase              string // "mirroring" or "in sync"
	topics, partitions int
	behind             int64
	groupsSynced       int
	groupsCounted      int
	unmeasured         bool // the figure leaves partitions out: a lower bound only
}

func parseSyncLine(msg string) (syncLine, bool) {
	m := syncLineRE.FindStringSubmatch(msg)
	if m == nil {
		return syncLine{}, false
	}
	l := syncLine{phase: m[1], unmeasured: strings.Contains(msg, " unmeasured (")}
	l.topics, _ = strconv.Atoi(m[2])
	l.partitions, _ = strconv.Atoi(m[3])
	l.behind, _ = strconv.ParseInt(strings.ReplaceAll(m[4], ",", ""), 10, 64)
	if g := syncGroupsRE.FindStringSubmatch(msg); g != nil {
		l.groupsSynced, _ = strconv.Atoi(g[1])
		l.groupsCounted, _ = strconv.Atoi(g[2])
	}
	return l, true
}

// syncTP names a partition on both clusters (the identity policy keeps names).
type syncTP struct {
	topic     string
	partition int32
}

// endsSample is the log-end offset of every mirrored partition on both
// clusters, read by the test itself; at is when the reading finished, so
// every value in it was true at some instant no later than at.
type endsSample struct {
	at       time.Time
	src, tgt map[syncTP]int64
}

// syncWorld is TestSync's migration plus what the test keeps of it.
type syncWorld struct {
	*migration
	topics           []string
	srcEnds, tgtEnds sarama.Client
	history          []endsSample // every reading, oldest first
	explained        map[string]bool
}

// ends reads both clusters' end offsets, source first; a topic MM2 has not
// created on the target yet counts as empty there.
func (w *syncWorld) ends(t *testing.T) endsSample {
	t.Helper()
	s := endsSample{src: map[syncTP]int64{}, tgt: map[syncTP]int64{}}
	require.NoError(t, readEnds(w.srcEnds, w.topics, s.src))
	require.NoError(t, readEnds(w.tgtEnds, w.topics, s.tgt))
	s.at = time.Now()
	w.history = append(w.history, s)
	return s
}

// endsClient is a client for reading end offsets that does not retry
// metadata for a topic that does not exist (yet), as the Kit's does.
func endsClient(t *testing.T, c *localkafka.Cluster) sarama.Client {
	t.Helper()
	cfg := c.Config(c.Admin)
	cfg.Metadata.Retry.Max = 0
	cl, err := sarama.NewClient(c.Addrs(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// readEnds puts the log-end offset of every partition of topics into out;
// topics the cluster does not have are left out (0).
func readEnds(cl sarama.Client, topics []string, out map[syncTP]int64) error {
	if err := cl.RefreshMetadata(); err != nil {
		return fmt.Errorf("cannot refresh metadata: %w", err)
	}
	have, err := cl.Topics()
	if err != nil {
		return fmt.Errorf("cannot list topics: %w", err)
	}
	for _, topic := range topics {
		if !slices.Contains(have, topic) {
			continue
		}
		parts, err := cl.Partitions(topic)
		if err != nil {
			return fmt.Errorf("cannot list partitions of %s: %w", topic, err)
		}
		for _, p := range parts {
			end, err := endOffset(cl, topic, p)
			if err != nil {
				return fmt.Errorf("cannot read the end of %s/%d: %w", topic, p, err)
			}
			out[syncTP{topic, p}] = end
		}
	}
	return nil
}

// endOffset reads a partition's end offset. A topic MM2 has just created may still be
// electing its leader, which the broker answers with a leadership error: then the metadata is
// refreshed and the read tried again, within a deadline.
func endOffset(cl sarama.Client, topic string, p int32) (int64, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		end, err := cl.GetOffset(topic, p, sarama.OffsetNewest)
		leadership := errors.Is(err, sarama.ErrNotLeaderForPartition) || errors.Is(err, sarama.ErrLeaderNotAvailable)
		if !leadership || time.Now().After(deadline) {
			return end, err
		}
		_ = cl.RefreshMetadata(topic)
		time.Sleep(100 * time.Millisecond) // pacing between reads, bounded by the deadline
	}
}

// explainDown logs, once per unit, why a sync line names a unit whose MM2
// is down: Pebble's account of the service and MM2's last output. Nothing
// in the test stops MM2 before the subtest that does, so this is MM2 itself
// failing (a slow start on a busy machine, say), which the line rightly shows.
func (w *syncWorld) explainDown(t *testing.T, msg string) {
	t.Helper()
	_, down, ok := strings.Cut(msg, "; MM2 down on ")
	if !ok {
		return
	}
	for _, u := range strings.Split(down, ", ") {
		if w.explained[u] {
			continue
		}
		if w.explained == nil {
			w.explained = map[string]bool{}
		}
		w.explained[u] = true
		var pebble []string
		for _, line := range strings.Split(logtail.Of(filepath.Join(w.sim.UnitDir(u), "pebble.log"), 200), "\n") {
			if strings.Contains(line, workload.ServiceName) {
				pebble = append(pebble, line)
			}
		}
		logs, err := w.mm2Logs(u, 15)
		if err != nil {
			logs = err.Error()
		}
		t.Logf("%s reported down; its Pebble says:\n%s\nMM2's last output:\n%s", u,
			strings.Join(pebble[max(0, len(pebble)-8):], "\n"), logs)
	}
}

// syncBound is the range the charm's records-behind figure must fall in.
//
// The leader measures at some instant t_m while update-status runs, between
// t0 (update-status fired) and t1 (it returned). Per partition its figure is
// max(0, srcEnd(t_m) - (c+1)), c being MM2's last committed Connect offset of
// the partition. The test reads the end offsets of both clusters itself right
// before t0 ("before") and right after t1 ("after"), and keeps every reading.
//
//   - lower: MM2 commits only records the target has acknowledged, so
//     c+1 <= tgtEnd(t1) <= after.tgt; the source only grows, so
//     srcEnd(t_m) >= before.src. Figure >= sum max(0, before.src - after.tgt).
//   - upper: MM2 commits its progress every offset-flush-interval, so
//     everything on the target at T = t0 - flush - margin has been committed
//     by t_m (margin covers the acknowledgement, the commit's own write and a
//     busy JVM): c+1 >= tgtEnd(T) >= ref.tgt, ref being the last reading
//     finished by T (none yet: 0). srcEnd(t_m) <= after.src. Figure <=
//     sum max(0, after.src - ref.tgt).
//
// The upper bound assumes MM2 wrote no duplicates (target offsets = source
// offsets); the test checks that at the end, when both sides' ends are equal.
// With no producer the bounds meet: lower = upper = the truth, 0 when copied.
func (w *syncWorld) bound(before, after endsSample, t0 time.Time, flush, margin time.Duration) (lower, upper int64, ref time.Time) {
	cut := t0.Add(-flush - margin)
	var refTgt map[syncTP]int64
	for _, s := range w.history {
		if !s.at.After(cut) {
			refTgt, ref = s.tgt, s.at
		}
	}
	for tp, srcBefore := range before.src {
		lower += max(0, srcBefore-after.tgt[tp])
	}
	for tp, srcAfter := range after.src {
		upper += max(0, srcAfter-refTgt[tp])
	}
	return lower, upper, ref
}

// leaderLine fires update-status on every unit and returns the leader's
// status, checking that the application status carries the same line.
func (w *syncWorld) leaderLine(t *testing.T, leader string) (jujusim.UnitStatus, jujusim.Status) {
	t.Helper()
	require.NoError(t, w.sim.UpdateStatus(w.ctx))
	st, err := w.sim.Status(w.ctx)
	require.NoError(t, err)
	for _, u := range st.Units {
		if u.Name == leader {
			assert.Equal(t, u.Workload, st.Status, "the application status is the leader's sync line")
			return u, st
		}
	}
	t.Fatalf("no leader %s in status:\n%s", leader, st)
	return jujusim.UnitStatus{}, st
}

// TestSync is issue 4 end to end: two real clusters, MM2 on two units run by
// the shipped charm binary, Juju simulated. One setup, then in order:
//
//   - the leader's records-behind figure, sampled after update-status while
//     a producer writes, stays within the bounds syncBound derives from both
//     clusters' end offsets, falls, and reaches "in sync ... 0 records
//     behind" once the producer stops;
//   - the groups committed on the source show as "groups 3/3 synced" once
//     MM2 checkpoints them, and sync-status gives the same per partition;
//   - MM2 that cannot start on the non-leader is named by the leader
//     ("MM2 down on mirrormaker-k8s/1"), after that unit's hook;
//   - a source cluster that is gone shows as "source cluster unreachable".
func TestSync(t *testing.T) {
	begin := time.Now()
	cfg := e2eConfig(nil)
	flush := time.Duration(cfg["offset-flush-interval"].(int)) * time.Second
	const margin = 3 * time.Second
	// The flow mirrors the test's three topics only, so that the preflight's
	// own topic never takes part in the migration.
	const topicsConfig = "sync-orders,sync-payments,sync-audit"
	m := newMigration(t, 2, map[string]any{"topics": topicsConfig})
	w := &syncWorld{migration: m, topics: []string{"sync-orders", "sync-payments", "sync-audit"},
		srcEnds: endsClient(t, m.source), tgtEnds: endsClient(t, m.target)}

	const partitions, initial = 6, 20000
	counts := map[string]int{}
	for _, topic := range w.topics {
		m.createTopic(topic, partitions)
		counts[topic] = initial
	}
	m.produceAll(counts)
	t.Logf("[%5.1fs] %d records written to each of %v", time.Since(begin).Seconds(), initial, w.topics)
	// One group per topic, stopped a little before the end of each partition,
	// as consumers that ran until recently would have left it.
	groups := map[string]struct {
		topic   string
		offsets map[int32]int64
	}{}
	for i, topic := range w.topics {
		g := "sync-group-" + strconv.Itoa(i)
		offsets := map[int32]int64{}
		for p := range int32(partitions) {
			offsets[p] = int64(initial/partitions - 300 - 37*int(p) - 11*i)
		}
		require.NoError(t, m.src.Commit(g, topic, offsets))
		groups[g] = struct {
			topic   string
			offsets map[int32]int64
		}{topic, offsets}
	}
	m.relate("source")
	m.relate("target")
	t.Logf("[%5.1fs] related to both clusters", time.Since(begin).Seconds())
	leader, other := m.leaderAndOther()
	require.NotEmpty(t, other)

	t.Run("preflight names every problem and starts nothing; dry-run reports the plan", func(t *testing.T) {
		begin := time.Now()
		nothingStarted := func(t *testing.T, after string) {
			t.Helper()
			st, err := m.sim.Status(m.ctx)
			require.NoError(t, err)
			for _, u := range st.Units {
				assert.Equal(t, "active: ready: run start-migration", u.Workload.Name+": "+u.Workload.Message, "%s after %s", u.Name, after)
				assert.Equal(t, client.StatusInactive, m.service(u.Name).Current, "%s: MM2 after %s", u.Name, after)
				assert.Zero(t, m.mm2PID(u.Name), "%s: an MM2 process after %s", u.Name, after)
			}
		}
		startFails := func(t *testing.T, config map[string]any, want ...string) {
			t.Helper()
			require.NoError(t, m.sim.SetConfig(m.ctx, config))
			res, err := m.sim.Run(m.ctx, "leader", "start-migration", nil)
			require.NoError(t, err)
			require.True(t, res.Failed, "start-migration with %v passed: %v", config, res.Results)
			t.Logf("start-migration with %v: %s", config, res.Message)
			assert.Contains(t, res.Message, "nothing started")
			for _, problem := range want {
				assert.Contains(t, res.Message, problem)
			}
			nothingStarted(t, fmt.Sprintf("a failed preflight with %v", config))
		}

		// A topic that exists on the target with fewer partitions than on the source.
		require.NoError(t, m.src.CreateTopic("sync-mismatch", partitions, nil))
		require.NoError(t, m.tgt.CreateTopic("sync-mismatch", 2, nil))
		startFails(t, map[string]any{"replication-factor": 3, "topics": "sync-mismatch"},
			"target: mirrored topics: need replication factor 3, but the target has 1 broker",
			"target: topic sync-mismatch: has 2 partitions, the source topic sync-mismatch has 6")
		startFails(t, map[string]any{"replication-factor": 1, "topics": "nothing-here-.*"},
			`source: topics: no topic to mirror: none matches topics "nothing-here-.*"`)

		require.NoError(t, m.sim.SetConfig(m.ctx, map[string]any{"topics": topicsConfig}))
		res, err := m.sim.Run(m.ctx, "leader", "start-migration", map[string]any{"dry-run": true})
		require.NoError(t, err)
		require.False(t, res.Failed, "dry run failed: %s", res.Message)
		r := res.Results
		assert.Contains(t, r["status"], "dry run")
		assert.Equal(t, "3", r["plan.topics"])
		assert.Equal(t, "18", r["plan.partitions"])
		assert.Equal(t, "3", r["plan.groups"])
		var planned []string
		for i := range 3 {
			k := "plan.topic." + strconv.Itoa(i) + "."
			planned = append(planned, r[k+"source"])
			assert.Equal(t, r[k+"source"], r[k+"target"], "identity policy")
			assert.Equal(t, "6", r[k+"partitions"], r[k+"source"])
			n, err := strconv.ParseInt(r[k+"bytes"], 10, 64)
			if assert.NoError(t, err) {
				assert.Positive(t, n, "%s: bytes to copy", r[k+"source"])
			}
		}
		assert.ElementsMatch(t, w.topics, planned)
		nothingStarted(t, "a dry run")
		t.Logf("preflight checks took %s; dry run: %v", time.Since(begin).Round(time.Millisecond), r)
	})

	before := w.ends(t)
	t0 := time.Now()
	m.startMigration()
	after := w.ends(t)
	st, err := m.sim.Status(m.ctx)
	require.NoError(t, err)
	first, ok := parseSyncLine(st.Status.Message)
	require.True(t, ok, "after start-migration the status is the sync line: %q", st.Status.Message)
	lower, upper, _ := w.bound(before, after, t0, flush, margin)
	assert.Equal(t, int64(3*initial), lower, "nothing copied yet, no producer: the truth is every record")
	assert.Equal(t, lower, upper)
	assert.Equal(t, int64(3*initial), first.behind, "start-migration's own status: %q", st.Status.Message)
	assert.Equal(t, "mirroring", first.phase)
	assert.Equal(t, [2]int{3, 18}, [2]int{first.topics, first.partitions}, "topics/partitions in %q", st.Status.Message)
	assert.Equal(t, [2]int{0, 3}, [2]int{first.groupsSynced, first.groupsCounted}, "groups in %q", st.Status.Message)
	t.Logf("[%5.1fs] start-migration: %s: %s", time.Since(begin).Seconds(), st.Status.Name, st.Status.Message)

	// Production goes on while MM2 starts and copies.
	producing := true
	stopProduction := produceInBackground(t, m.ctx, func() error {
		for _, topic := range w.topics {
			if err := m.src.Produce(topic, 100); err != nil {
				return err
			}
		}
		return nil
	})
	stopProducer := func() {
		producing = false
		stopProduction()
	}

	t.Run("records behind stays within one flush interval of the truth, falls, and reaches in sync", func(t *testing.T) {
		var peak, lastWhileProducing int64 = -1, -1
		checked, skipped := 0, 0
		stoppedAt := time.Time{}
		var final syncLine
		err := poll.Until(m.ctx, 3*time.Minute, 500*time.Millisecond, func() (bool, error) {
			before := w.ends(t)
			t0 := time.Now()
			u, _ := w.leaderLine(t, leader)
			after := w.ends(t)
			line, ok := parseSyncLine(u.Workload.Message)
			if !ok {
				return false, fmt.Errorf("leader status is not a sync line: %s: %q", u.Workload.Name, u.Workload.Message)
			}
			lower, upper, ref := w.bound(before, after, t0, flush, margin)
			refAge := "none"
			if !ref.IsZero() {
				refAge = t0.Sub(ref).Round(100*time.Millisecond).String() + " old"
			}
			t.Logf("[%5.1fs] %s: %q; truth: %d <= figure <= %d (reference reading %s); producer %v",
				time.Since(begin).Seconds(), u.Workload.Name, u.Workload.Message, lower, upper, refAge, producing)
			assert.Equal(t, [2]int{3, 18}, [2]int{line.topics, line.partitions})
			w.explainDown(t, u.Workload.Message)
			if line.unmeasured {
				// The figure leaves partitions out (MM2's offsets topic just
				// created, say), and the line says so: no bound, no trend.
				skipped++
				return false, nil
			}
			checked++
			assert.LessOrEqual(t, lower, line.behind, "figure below what the target can hold: %q", u.Workload.Message)
			assert.LessOrEqual(t, line.behind, upper, "figure staler than one flush interval: %q", u.Workload.Message)
			peak = max(peak, line.behind)
			if producing {
				lastWhileProducing = line.behind
				// Stop once the figure has fallen well below its peak while
				// records keep arriving.
				if line.behind*2 < peak && checked >= 3 {
					stopProducer()
					stoppedAt = time.Now()
					n := m.src.Produced(w.topics[0])
					t.Logf("producer stopped: %d records written to each topic", n)
				}
				return false, nil
			}
			final = line
			return line.phase == "in sync" && line.behind == 0 && u.Workload.Name == "active", nil
		}, "the leader to report in sync after the producer stopped")
		require.NoError(t, err)
		assert.Less(t, lastWhileProducing, peak, "the figure fell while the producer was writing")
		assert.Equal(t, int64(0), final.behind)
		assert.GreaterOrEqual(t, checked, 5, "samples bounded (%d skipped as unmeasured)", skipped)
		t.Logf("in sync %s after the producer stopped; %d samples bounded, %d unmeasured, peak %d",
			time.Since(stoppedAt).Round(time.Millisecond), checked, skipped, peak)

		// In sync must mean the truth is 0 as well, and no duplicates (which
		// the upper bound assumed) were written.
		end := w.ends(t)
		for tp, src := range end.src {
			assert.Equal(t, src, end.tgt[tp], "%s/%d: end offsets on source and target when in sync", tp.topic, tp.partition)
		}
	})

	t.Run("groups committed on the source show as synced, in the status and in sync-status", func(t *testing.T) {
		begin := time.Now()
		var msg string
		err := poll.Until(m.ctx, 90*time.Second, time.Second, func() (bool, error) {
			u, _ := w.leaderLine(t, leader)
			msg = u.Workload.Message
			line, ok := parseSyncLine(msg)
			return ok && line.groupsCounted == 3 && line.groupsSynced == 3, nil
		}, "the leader to report every group synced")
		// Not require: sync-status below names the partitions that are not synced.
		if assert.NoError(t, err, "last status: %q", msg) {
			assert.Equal(t, "in sync 3 topics/18 partitions: 0 records behind; groups 3/3 synced", msg)
			t.Logf("groups 3/3 synced %s after in sync", time.Since(begin).Round(time.Millisecond))
		}

		for g, c := range groups {
			// MM2 may refine a checkpoint after the status said synced: an offset sync it
			// held back (at most 10 in flight) lands with its next offsets flush, and its
			// group sync applies the new checkpoint an interval later. Each measurement is
			// true when taken; this waits for the one that agrees, not for a first look.
			var r map[string]string
			err := poll.Until(m.ctx, 60*time.Second, time.Second, func() (bool, error) {
				res, err := m.sim.Run(m.ctx, "leader", "sync-status", map[string]any{"group": g})
				if err != nil {
					return false, err
				}
				if res.Failed {
					return false, fmt.Errorf("sync-status failed: %s", res.Message)
				}
				r = res.Results
				return r["summary.groups-synced"] == "3", nil
			}, "sync-status to report every group synced")
			assert.NoError(t, err, "last sync-status of %s: %v", g, r)
			for k, want := range map[string]string{
				"summary.records-behind": "0", "summary.topics": "3", "summary.partitions": "18",
				"summary.partitions-caught-up": "18", "summary.partitions-unknown": "0",
				"summary.groups-counted": "3", "summary.groups-synced": "3",
				"summary.complete": "true", "summary.in-sync": "true", "summary.mirror-started": "true",
			} {
				assert.Equal(t, want, r[k], "sync-status %s", k)
			}
			idx := ""
			for i := range 3 {
				if r["groups."+strconv.Itoa(i)+".name"] == g {
					idx = "groups." + strconv.Itoa(i) + "."
				}
			}
			require.NotEmpty(t, idx, "group %s not in sync-status results %v", g, r)
			assert.Equal(t, "true", r[idx+"synced"], g)
			assert.Equal(t, "true", r[idx+"counted"], g)
			assert.Equal(t, strconv.Itoa(partitions), r[idx+"partitions"], g)
			target, err := m.tgt.GroupOffsets(g, c.topic, partitions)
			require.NoError(t, err)
			seen := map[int32]bool{}
			for j := range partitions {
				k := idx + "offsets." + strconv.Itoa(j) + "."
				require.Equal(t, c.topic, r[k+"topic"], "%s offsets %d", g, j)
				p64, err := strconv.ParseInt(r[k+"partition"], 10, 32)
				require.NoError(t, err)
				p := int32(p64)
				seen[p] = true
				t.Logf("%s %s/%d: source committed %s, checkpoint %s -> %s, target committed %s (read directly %d), synced %s",
					g, c.topic, p, r[k+"source-committed"], r[k+"checkpoint-upstream"], r[k+"checkpoint-downstream"],
					r[k+"target-committed"], target[p], r[k+"synced"])
				want := strconv.FormatInt(c.offsets[p], 10)
				assert.Equal(t, want, r[k+"source-committed"], "%s %s/%d: source committed", g, c.topic, p)
				assert.Equal(t, want, r[k+"checkpoint-upstream"], "%s %s/%d: MM2 checkpointed the committed offset", g, c.topic, p)
				assert.Equal(t, r[k+"checkpoint-downstream"], r[k+"target-committed"], "%s %s/%d: target group at the checkpoint", g, c.topic, p)
				assert.Equal(t, strconv.FormatInt(target[p], 10), r[k+"target-committed"], "%s %s/%d: target committed, read directly", g, c.topic, p)
				assert.Equal(t, "true", r[k+"synced"], "%s %s/%d", g, c.topic, p)
			}
			assert.Len(t, seen, partitions, "%s: every partition in the per-group offsets", g)
			// Target offsets equal source offsets here (identity, no duplicates),
			// so a moved consumer re-reads source committed - target committed.
			var reread int64
			for p, off := range c.offsets {
				reread += off - target[p]
			}
			t.Logf("sync-status group=%s: synced, source %v, target %v: a consumer moved now re-reads %d records",
				g, c.offsets, target, reread)
		}
	})

	t.Run("MM2 that cannot run on a unit is named in the leader's status", func(t *testing.T) {
		// MM2 cannot start on the non-leader: its launcher fails at once, as a
		// broken image would. Only that pod sees it (a bind mount in its own
		// mount namespace); its Pebble keeps restarting the service.
		pod := m.pod(other)
		out, err := pod.Command(m.ctx, nil, "/", "mount", "--bind", "/bin/false", launcherPath).CombinedOutput()
		require.NoError(t, err, "cannot break the launcher in %s: %s", other, out)
		c := m.pebble(other)
		id, err := c.Stop(&client.ServiceOptions{Names: []string{workload.ServiceName}})
		require.NoError(t, err)
		chg, err := c.WaitChange(id, &client.WaitChangeOptions{Timeout: time.Minute})
		require.NoError(t, err)
		require.True(t, chg.Ready && chg.Err == "", "stop %s on %s: %s", workload.ServiceName, other, chg.Err)

		begin := time.Now()
		var st jujusim.Status
		err = poll.Until(m.ctx, 90*time.Second, time.Second, func() (bool, error) {
			_, st = w.leaderLine(t, leader)
			named := st.Status.Name == "waiting" && strings.HasSuffix(st.Status.Message, "; MM2 down on "+other)
			// Both together: Pebble shows a crash-looping service as active
			// during each start attempt, so a hook that lands in one reads
			// "mirroring" for a round.
			for _, u := range st.Units {
				if u.Name == other && !strings.HasPrefix(u.Workload.Message, "MirrorMaker 2 failed") {
					named = false
				}
			}
			return named, nil
		}, "the leader to name "+other+" and "+other+" to say its MM2 failed")
		require.NoError(t, err, "status:\n%s", st)
		// The groups part is the previous subtest's.
		assert.Regexp(t, `^in sync 3 topics/18 partitions: 0 records behind; groups \d/3 synced; MM2 down on `+regexp.QuoteMeta(other)+`$`, st.Status.Message)
		for _, u := range st.Units {
			if u.Name == other {
				assert.Equal(t, "waiting", u.Workload.Name, other)
				assert.Contains(t, u.Workload.Message, "MirrorMaker 2 failed", other)
				assert.Equal(t, "idle", u.Agent, "%s: the hook itself succeeds", other)
			}
		}
		assert.NotEqual(t, client.StatusActive, m.service(other).Current)
		t.Logf("leader named %s %s after its MM2 stopped:\n%s", other, time.Since(begin).Round(time.Millisecond), st)
	})

	t.Run("a source cluster that is gone shows as unreachable", func(t *testing.T) {
		m.source.Kill()
		begin := time.Now()
		var st jujusim.Status
		err := poll.Until(m.ctx, 90*time.Second, time.Second, func() (bool, error) {
			var u jujusim.UnitStatus
			u, st = w.leaderLine(t, leader)
			return u.Workload.Name == "waiting" && strings.HasPrefix(u.Workload.Message, "source cluster unreachable: "), nil
		}, "the leader to report the source unreachable")
		require.NoError(t, err, "status:\n%s", st)
		t.Logf("source unreachable reported %s after the kill: %q", time.Since(begin).Round(time.Millisecond), st.Status.Message)
	})

	t.Logf("TestSync took %s", time.Since(begin).Round(time.Millisecond))
}

// launcherPath is the MM2 launcher the charm's layer runs, in the pod's view.
const launcherPath = "/opt/kafka/bin/connect-mirror-maker.sh"
