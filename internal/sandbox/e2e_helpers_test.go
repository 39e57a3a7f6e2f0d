package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/workload"
)

// The end-to-end tests run the shipped charm binary in pods against two real
// Kafka clusters; only Juju is simulated. This file holds what they share: a
// migration world (clusters, simulator, relations), waits that poll with a
// deadline, and record comparisons that name the first difference instead of
// dumping thousands of records.

// e2eTimeout bounds a whole end-to-end test; each wait has its own deadline.
// TestStopMigration alone holds MM2 stopped for two minutes on purpose.
const e2eTimeout = 9 * time.Minute

// mm2Main is the main class on the command line of every MM2 JVM.
const mm2Main = "org.apache.kafka.connect.mirror.MirrorMaker"

// e2eConfig is the charm config for single-broker sandbox clusters with short
// intervals, so that topics, groups and offsets move in seconds, not minutes.
func e2eConfig(extra map[string]any) map[string]any {
	cfg := map[string]any{
		"replication-factor":          1,
		"internal-replication-factor": 1,
		"heap-size":                   "512M",
		"tasks-max":                   4,
		"offset-flush-interval":       2,
		"checkpoint-interval":         2,
		"sync-group-offsets-interval": 2,
		"refresh-topics-interval":     5,
		"refresh-groups-interval":     5,
		"offset-lag-max":              10,
	}
	maps.Copy(cfg, extra)
	return cfg
}

// migration is one world: a source and a target cluster, the charm deployed
// as units in pods, and what the test wrote to the source.
type migration struct {
	t              *testing.T
	ctx            context.Context
	source, target *Cluster
	src, tgt       *Traffic
	sim            *Sim

	mu        sync.Mutex
	passwords []string         // every relation user's password, to prove none leaks
	produced  map[string]int   // records written per topic, keys numbered from 0
	parts     map[string]int32 // partitions per topic
}

// sandboxLivenessProbe is JujuLivenessProbe with a timeout for busy cores.
var sandboxLivenessProbe = Probe{InitialDelay: JujuLivenessProbe.InitialDelay, Period: JujuLivenessProbe.Period,
	Timeout: 10 * time.Second, FailureThreshold: JujuLivenessProbe.FailureThreshold}

// newMigration starts both clusters (concurrently), opens the simulator over
// the shipped charm and deploys units with e2eConfig(config). Everything is
// torn down when the test ends, pass or fail: pods (MM2 first) before brokers.
func newMigration(t *testing.T, units int, config map[string]any) *migration {
	t.Helper()
	return newMigrationOf(t, units, config, nil)
}

// newMigrationOf is newMigration with each cluster's options adjusted by
// tune (nil: none), such as a TLS listener.
func newMigrationOf(t *testing.T, units int, config map[string]any, tune func(*ClusterOptions)) *migration {
	t.Helper()
	requireRoot(t)
	dist := requireKafkaDist(t)
	charmFile := requireCharm(t)
	pebble := testPebble(t)
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	t.Cleanup(cancel)

	m := &migration{t: t, ctx: ctx, produced: map[string]int{}, parts: map[string]int32{}}
	m.source, m.target = startClusterPair(t, dist, tune)
	var err error
	m.src, err = NewTraffic(m.source)
	require.NoError(t, err)
	t.Cleanup(m.src.Close)
	m.tgt, err = NewTraffic(m.target)
	require.NoError(t, err)
	t.Cleanup(m.tgt.Close)

	m.sim, err = OpenSim(SimOptions{
		Dir: filepath.Join(t.TempDir(), "juju"), CharmFile: charmFile, PebbleBin: pebble,
		KafkaHome: dist.Home, HookTimeout: 2 * time.Minute,
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		m.sim.StopKubelet()
		m.assertContainersUndisturbed()
		if t.Failed() {
			m.logDiagnostics()
		}
		assert.NoError(t, m.sim.Close())
	})
	// Kubernetes probes every workload container as Juju asks, and restarts
	// one whose Pebble reports an alive check down: no scenario may cause it.
	// Only the timeout is longer than Juju's 1 s: here two cores carry the
	// brokers, every MM2 JVM and the hooks, and a probe starved of CPU says
	// nothing about the charm's checks.
	m.sim.StartKubelet(sandboxLivenessProbe)
	begin := time.Now()
	require.NoError(t, m.sim.Deploy(ctx, units, e2eConfig(config)))
	t.Logf("deployed %d units of the charm in %s", units, time.Since(begin).Round(time.Millisecond))
	return m
}

// assertContainersUndisturbed checks what Kubernetes and the rock would have
// punished: no workload container was restarted by its liveness probe, the
// rock's own broker service was never started beside MM2, and the MM2 check
// left no noise in MM2's log.
func (m *migration) assertContainersUndisturbed() {
	t := m.t
	assert.Empty(t, m.sim.AllRestarts(), "workload containers restarted by the liveness probe")
	units, err := m.sim.Units(context.Background())
	if err != nil {
		return
	}
	for _, unit := range units {
		pod, err := m.sim.Pod(unit)
		if err != nil {
			continue
		}
		c, err := pod.Client()
		if err != nil {
			continue
		}
		svcs, err := c.Services(&client.ServicesOptions{Names: []string{"kafka"}})
		if assert.NoError(t, err) && assert.Len(t, svcs, 1, "%s: the rock's kafka service", unit) {
			assert.Equal(t, client.StatusInactive, svcs[0].Current, "%s: the rock's broker service was started", unit)
		}
		// The sandbox's /opt/kafka has no broker launcher, so a start of it fails at once and
		// leaves it inactive: look for the attempt itself in Pebble's changes.
		changes, err := c.Changes(&client.ChangesOptions{Selector: client.ChangesAll})
		if assert.NoError(t, err) {
			for _, chg := range changes {
				for _, task := range chg.Tasks {
					assert.NotContains(t, task.Summary, `service "kafka"`, "%s: change %s (%s) touched the rock's broker",
						unit, chg.ID, chg.Kind)
				}
			}
		}
		c.CloseIdleConnections()
		// The check must read the exporter's whole answer: one that hangs up early makes the
		// exporter log a Broken pipe at every probe.
		if logs, err := m.mm2Logs(unit, -1); err == nil {
			assert.NotContains(t, logs, "Broken pipe", "%s: MM2's log", unit)
		}
	}
}

// requireCharm returns the built charm, skipping (or failing under
// $MM_REQUIRE_SANDBOX) when `make charm` has not run.
func requireCharm(t *testing.T) string {
	t.Helper()
	path := DefaultCharmFile()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("MM_REQUIRE_SANDBOX") != "" {
			t.Fatalf("sandbox required: cannot find the charm (run make charm): %v", err)
		}
		t.Skipf("skipping: no charm built (run make charm): %v", err)
	}
	return path
}

// startClusterPair starts "old" and "new" at once: two JVMs boot faster side
// by side than one after the other, even on two cores.
func startClusterPair(t *testing.T, dist KafkaDist, tune func(*ClusterOptions)) (*Cluster, *Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	names := []string{"old", "new"}
	clusters := make([]*Cluster, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	begin := time.Now()
	for i, name := range names {
		opts := ClusterOptions{Name: name, Dir: t.TempDir()}
		if tune != nil {
			tune(&opts)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			clusters[i], errs[i] = StartCluster(ctx, dist, opts)
		}()
	}
	wg.Wait()
	for i, c := range clusters {
		if c == nil {
			continue
		}
		t.Cleanup(func() {
			if err := c.Stop(); err != nil {
				t.Errorf("cannot stop %s: %v", names[i], err)
			}
		})
	}
	require.NoError(t, errors.Join(errs...))
	t.Logf("Kafka %s clusters old (%s) and new (%s) ready in %s", dist.Version, clusters[0].Bootstrap,
		clusters[1].Bootstrap, time.Since(begin).Round(time.Millisecond))
	return clusters[0], clusters[1]
}

// logDiagnostics shows, after a failure, what a user would look at: juju
// status and the tail of each unit's hook log and Pebble log (MM2's output).
func (m *migration) logDiagnostics() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if st, err := m.sim.Status(ctx); err == nil {
		m.t.Logf("status:\n%s", st)
	}
	units, _ := m.sim.Units(ctx)
	for _, u := range units {
		for _, f := range []string{"hooks.log", "pebble.log"} {
			m.t.Logf("%s %s (tail):\n%s", u, f, tailFile(filepath.Join(m.sim.UnitDir(u), f), 20))
		}
		if logs, err := m.mm2Logs(u, 60); err == nil {
			m.t.Logf("%s pebble logs %s (tail):\n%s", u, workload.ServiceName, logs)
		}
	}
}

// mm2Logs is the tail of MM2's output as Pebble keeps it (`pebble logs`);
// n < 0 is the whole buffer.
func (m *migration) mm2Logs(unit string, n int) (string, error) {
	pod, err := m.sim.Pod(unit)
	if err != nil {
		return "", err
	}
	c, err := pod.Client()
	if err != nil {
		return "", err
	}
	defer c.CloseIdleConnections()
	var b strings.Builder
	err = c.Logs(&client.LogsOptions{Services: []string{workload.ServiceName}, N: n, WriteLog: func(e client.LogEntry) error {
		b.WriteString(e.Message)
		if !strings.HasSuffix(e.Message, "\n") {
			b.WriteByte('\n')
		}
		return nil
	}})
	return b.String(), err
}

// createUser is Cluster.CreateUser that remembers each password, so tests
// can prove that none reaches a log, a status or mm2.properties.
func (m *migration) createUser(c *Cluster) func(context.Context, string, string) error {
	return func(ctx context.Context, name, password string) error {
		m.mu.Lock()
		m.passwords = append(m.passwords, password)
		m.mu.Unlock()
		return c.CreateUser(ctx, name, password)
	}
}

// relate relates endpoint ("source" or "target") to a Charmed Kafka-like
// provider over the matching cluster, which creates the relation's user.
func (m *migration) relate(endpoint string) int {
	m.t.Helper()
	c, app := m.source, "kafka-old"
	if endpoint == "target" {
		c, app = m.target, "kafka-k8s"
	}
	id, err := m.sim.Relate(m.ctx, endpoint, NewKafkaProvider(app, c.Bootstrap, m.createUser(c), SecretFields))
	require.NoError(m.t, err)
	return id
}

// startMigration runs the action on the leader, as a user would.
func (m *migration) startMigration() {
	m.t.Helper()
	res, err := m.sim.Run(m.ctx, "leader", "start-migration", nil)
	require.NoError(m.t, err)
	require.False(m.t, res.Failed, "start-migration failed: %s", res.Message)
	assert.Contains(m.t, res.Results["status"], "started")
}

func (m *migration) units() []string {
	m.t.Helper()
	units, err := m.sim.Units(m.ctx)
	require.NoError(m.t, err)
	return units
}

// leaderAndOther names the leader and one unit that is not.
func (m *migration) leaderAndOther() (leader, other string) {
	m.t.Helper()
	leader, err := m.sim.Leader(m.ctx)
	require.NoError(m.t, err)
	for _, u := range m.units() {
		if u != leader {
			other = u
		}
	}
	return leader, other
}

func (m *migration) pod(unit string) *Pod {
	m.t.Helper()
	pod, err := m.sim.Pod(unit)
	require.NoError(m.t, err)
	return pod
}

func (m *migration) pebble(unit string) *client.Client {
	m.t.Helper()
	c, err := m.pod(unit).Client()
	require.NoError(m.t, err)
	m.t.Cleanup(c.CloseIdleConnections)
	return c
}

// service is the MM2 Pebble service of unit.
func (m *migration) service(unit string) client.ServiceInfo {
	m.t.Helper()
	svcs, err := m.pebble(unit).Services(&client.ServicesOptions{Names: []string{workload.ServiceName}})
	require.NoError(m.t, err)
	require.Len(m.t, svcs, 1, "unit %s has no %s service", unit, workload.ServiceName)
	return *svcs[0]
}

// mm2PID is the pid of the MM2 JVM in unit's pod, or 0 when none runs.
func (m *migration) mm2PID(unit string) int {
	for _, pid := range m.pod(unit).Processes() {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && strings.Contains(string(cmdline), mm2Main) {
			return pid
		}
	}
	return 0
}

// statuses runs update-status everywhere, then returns each unit's workload status.
func (m *migration) statuses() map[string]string {
	m.t.Helper()
	require.NoError(m.t, m.sim.UpdateStatus(m.ctx))
	st, err := m.sim.Status(m.ctx)
	require.NoError(m.t, err)
	out := map[string]string{}
	for _, u := range st.Units {
		out[u.Name] = u.Workload.Name + ": " + u.Workload.Message
	}
	return out
}

// mirroring tells whether a unit's status (as statuses returns it) says MM2
// is copying: "mirroring" on every unit; the leader adds its sync line
// ("mirroring 3 topics/10 partitions: ..." or "in sync ...").
func mirroring(status string) bool {
	msg, ok := strings.CutPrefix(status, "active: ")
	return ok && (msg == "mirroring" || strings.HasPrefix(msg, "mirroring ") || strings.HasPrefix(msg, "in sync "))
}

// waitMirroring waits until every unit runs MM2 under Pebble and says "mirroring".
func (m *migration) waitMirroring() {
	m.t.Helper()
	begin := time.Now()
	var last map[string]string
	err := pollUntil(m.ctx, 90*time.Second, time.Second, func() (bool, error) {
		last = m.statuses()
		for _, u := range m.units() {
			if m.service(u).Current != client.StatusActive || m.mm2PID(u) == 0 || !mirroring(last[u]) {
				return false, nil
			}
		}
		return true, nil
	}, "MirrorMaker 2 to run on every unit")
	require.NoError(m.t, err, "statuses: %v", last)
	m.t.Logf("MM2 active and every unit mirroring after %s", time.Since(begin).Round(time.Millisecond))
}

// createTopic creates topic on the source.
func (m *migration) createTopic(topic string, partitions int32) {
	m.t.Helper()
	require.NoError(m.t, m.src.CreateTopic(topic, partitions, nil))
	m.mu.Lock()
	m.parts[topic] = partitions
	m.mu.Unlock()
}

// produce writes n more keyed records with headers to topic on the source.
// Safe to call for different topics at once.
func (m *migration) produce(topic string, n int) error {
	m.mu.Lock()
	start, parts := m.produced[topic], m.parts[topic]
	m.produced[topic] += n
	m.mu.Unlock()
	return m.src.Produce(topic, parts, start, n)
}

// produceAll writes counts[topic] records to each topic, topics in parallel.
func (m *migration) produceAll(counts map[string]int) {
	m.t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(counts))
	for topic, n := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- m.produce(topic, n)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(m.t, err)
	}
}

// expectedEnds is the end offset of each partition after the test's own
// writes: Produce spreads record i over partition i % partitions.
func (m *migration) expectedEnds(topic string) map[int32]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	ends := map[int32]int64{}
	n, parts := int64(m.produced[topic]), m.parts[topic]
	for p := range parts {
		ends[p] = n / int64(parts)
		if int64(p) < n%int64(parts) {
			ends[p]++
		}
	}
	return ends
}

// waitCopied waits until the target holds at least as many records as the
// source in each topic (the comparison then proves which ones).
func (m *migration) waitCopied(timeout time.Duration, topics ...string) {
	m.t.Helper()
	begin := time.Now()
	var progress []string
	err := pollUntil(m.ctx, timeout, time.Second, func() (bool, error) {
		progress = progress[:0]
		done := true
		for _, topic := range topics {
			want, err := m.src.Count(topic)
			if err != nil {
				return false, err
			}
			got, err := m.tgt.Count(topic)
			if err != nil {
				got = -1 // not created on the target yet
			}
			progress = append(progress, fmt.Sprintf("%s %d/%d", topic, got, want))
			done = done && got >= want
		}
		return done, nil
	}, "the target to hold every record of "+strings.Join(topics, ", "))
	require.NoError(m.t, err, "progress: %s", strings.Join(progress, ", "))
	m.t.Logf("target caught up (%s) after %s", strings.Join(progress, ", "), time.Since(begin).Round(time.Millisecond))
}

// sameRecord compares what a consumer sees of a record, offsets aside.
func sameRecord(a, b Record) bool {
	return a.Key == b.Key && a.Value == b.Value && maps.Equal(a.Headers, b.Headers)
}

func describeRecord(r Record) string {
	return fmt.Sprintf("offset %d key %q value %q headers %v", r.Offset, r.Key, r.Value, r.Headers)
}

// readBoth reads topic from both clusters.
func (m *migration) readBoth(topic string) (src, tgt map[int32][]Record) {
	m.t.Helper()
	src, err := m.src.ReadAll(m.ctx, topic)
	require.NoError(m.t, err)
	tgt, err = m.tgt.ReadAll(m.ctx, topic)
	require.NoError(m.t, err)
	return src, tgt
}

// assertIdentical asserts that every partition of topic holds, on the
// target, exactly the source's records in the same order, and returns how
// many records it compared.
func (m *migration) assertIdentical(t *testing.T, topic string) int {
	t.Helper()
	src, tgt := m.readBoth(topic)
	assert.Len(t, tgt, len(src), "%s: partitions with records", topic)
	n := 0
	for p, want := range src {
		got := tgt[p]
		if !assert.Len(t, got, len(want), "%s/%d: record count", topic, p) {
			continue
		}
		for i := range want {
			if !sameRecord(want[i], got[i]) {
				t.Errorf("%s/%d: record %d differs:\n source %s\n target %s", topic, p, i, describeRecord(want[i]), describeRecord(got[i]))
				break
			}
		}
		n += len(want)
	}
	return n
}

// assertNoneMissing asserts that every source record of topic is on the
// target in the same partition, first copies in source order, and nothing
// else is there; it returns the number of duplicates (at-least-once).
func (m *migration) assertNoneMissing(t *testing.T, topic string) (records, duplicates int) {
	t.Helper()
	src, tgt := m.readBoth(topic)
	for p, want := range src {
		seen := map[string]bool{}
		j := 0
		for _, r := range tgt[p] {
			if seen[r.Key] {
				duplicates++
				continue
			}
			seen[r.Key] = true
			if j >= len(want) || !sameRecord(want[j], r) {
				expected := "nothing more"
				if j < len(want) {
					expected = describeRecord(want[j])
				}
				t.Errorf("%s/%d: target record %s where the source has %s", topic, p, describeRecord(r), expected)
				break
			}
			j++
		}
		if j < len(want) {
			t.Errorf("%s/%d: %d of %d source records missing on the target, first %s", topic, p, len(want)-j, len(want), describeRecord(want[j]))
		}
		records += len(want)
	}
	for p := range tgt {
		if _, ok := src[p]; !ok {
			t.Errorf("%s/%d: records on the target, none on the source", topic, p)
		}
	}
	return records, duplicates
}

// kafkaUID is the uid the pod's /etc/passwd gives the workload user.
func kafkaUID(t *testing.T, pod *Pod) int {
	t.Helper()
	f, err := os.Open(filepath.Join(pod.Dir, "passwd"))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) > 2 && fields[0] == kafkaUser {
			uid, err := strconv.Atoi(fields[2])
			require.NoError(t, err)
			return uid
		}
	}
	t.Fatalf("no %s user in %s", kafkaUser, f.Name())
	return -1
}

// processUID is the real uid of a running process.
func processUID(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			uid, err := strconv.Atoi(strings.Fields(rest)[0])
			require.NoError(t, err)
			return uid
		}
	}
	t.Fatalf("no Uid line in /proc/%d/status", pid)
	return -1
}

// podFile is the host path of a file under the pod's /etc/kafka.
func podFile(pod *Pod, containerPath string) string {
	rel, _ := strings.CutPrefix(containerPath, "/etc/kafka/")
	return filepath.Join(pod.Dir, "etc-kafka", rel)
}

// assertPrivate asserts, on every unit, that MM2 runs as kafka, that the
// secrets file is kafka's and 0600, and that no password is in
// mm2.properties, the hook log, the Pebble log (MM2's output) or a status.
func (m *migration) assertPrivate(t *testing.T) {
	t.Helper()
	m.mu.Lock()
	passwords := slices.Clone(m.passwords)
	m.mu.Unlock()
	require.NotEmpty(t, passwords)
	st, err := m.sim.Status(m.ctx)
	require.NoError(t, err)
	for _, u := range m.units() {
		pod := m.pod(u)
		uid := kafkaUID(t, pod)
		pid := m.mm2PID(u)
		if assert.NotZero(t, pid, "%s: no MM2 process", u) {
			assert.Equal(t, uid, processUID(t, pid), "%s: MM2 must run as %s", u, kafkaUser)
		}
		info, err := os.Stat(podFile(pod, mm2.SecretsPath))
		if assert.NoError(t, err) {
			assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "%s: %s mode", u, mm2.SecretsPath)
			assert.Equal(t, uint32(uid), info.Sys().(*syscall.Stat_t).Uid, "%s: %s owner", u, mm2.SecretsPath)
		}
		props, err := os.ReadFile(podFile(pod, mm2.PropertiesPath))
		require.NoError(t, err)
		assert.Contains(t, string(props), "${file:"+mm2.SecretsPath+":")
		logs, err := m.mm2Logs(u, -1)
		require.NoError(t, err)
		texts := map[string]string{"pebble logs " + workload.ServiceName: logs}
		for _, f := range []string{podFile(pod, mm2.PropertiesPath), filepath.Join(pod.Dir, "hooks.log"), filepath.Join(pod.Dir, "pebble.log")} {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			texts[f] = string(data)
		}
		for where, text := range texts {
			for i, pw := range passwords {
				assert.NotContains(t, text, pw, "%s: password %d of the relation users is in %s", u, i, where)
			}
		}
	}
	for i, pw := range passwords {
		assert.NotContains(t, st.String(), pw, "password %d is in juju status", i)
	}
}

// serviceChanges lists, oldest first, the Pebble changes of unit that start,
// stop or restart services ("replan", "restart", ...), with their ids.
func (m *migration) serviceChanges(unit string) []*client.Change {
	m.t.Helper()
	changes, err := m.pebble(unit).Changes(&client.ChangesOptions{Selector: client.ChangesAll})
	require.NoError(m.t, err)
	var out []*client.Change
	for _, c := range changes {
		switch c.Kind {
		case "start", "stop", "restart", "replan", "autostart":
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *client.Change) int { return a.SpawnTime.Compare(b.SpawnTime) })
	return out
}

// produceInBackground calls write every 250 ms, as a producer still serving production, until
// the returned stop is called (at cleanup at the latest). stop is idempotent and fails the test
// with write's error, if any.
func produceInBackground(t *testing.T, ctx context.Context, write func() error) (stop func()) {
	t.Helper()
	prodCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		for {
			if err := write(); err != nil {
				done <- err
				return
			}
			select {
			case <-prodCtx.Done():
				done <- nil
				return
			case <-time.After(250 * time.Millisecond): // pacing, not waiting for a condition
			}
		}
	}()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			require.NoError(t, <-done)
		}
	}
	t.Cleanup(stop)
	return stop
}
