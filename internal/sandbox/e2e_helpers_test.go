package sandbox

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/logtail"
	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/internal/testenv"
	"mirrormaker-k8s/internal/sandbox/jujusim"
	"mirrormaker-k8s/internal/sandbox/localkafka"
	"mirrormaker-k8s/internal/sandbox/pods"
	"mirrormaker-k8s/internal/workload"
)

// The end-to-end tests run the shipped charm binary in pods against two real
// Kafka clusters; only Juju is simulated. This file holds the migration world
// they share (clusters, simulator, relations, units); e2e_records_test.go the
// records written and compared, e2e_pods_test.go what is asserted of the pods.
// Record comparisons name the first difference instead of
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
// as units in pods, and a kit on each cluster (which counts what the test
// wrote).
type migration struct {
	t              *testing.T
	ctx            context.Context
	source, target *localkafka.Cluster
	src, tgt       *localkafka.Kit // what the test writes to and reads from each side
	sim            *jujusim.Sim

	mu        sync.Mutex
	passwords []string // every relation user's password, to prove none leaks
}

// sandboxLivenessProbe is JujuLivenessProbe with a timeout for busy cores.
var sandboxLivenessProbe = jujusim.Probe{InitialDelay: jujusim.JujuLivenessProbe.InitialDelay, Period: jujusim.JujuLivenessProbe.Period,
	Timeout: 10 * time.Second, FailureThreshold: jujusim.JujuLivenessProbe.FailureThreshold}

// newMigration starts both clusters (concurrently), opens the simulator over
// the shipped charm and deploys units with e2eConfig(config). Everything is
// torn down when the test ends, pass or fail: pods (MM2 first) before brokers.
func newMigration(t *testing.T, units int, config map[string]any) *migration {
	t.Helper()
	return newMigrationOf(t, units, config, nil)
}

// newMigrationOf is newMigration with each cluster's options adjusted by
// tune (nil: none), such as a TLS listener.
func newMigrationOf(t *testing.T, units int, config map[string]any, tune func(*localkafka.ClusterOptions)) *migration {
	t.Helper()
	testenv.RequireRoot(t)
	dist := requireKafkaDist(t)
	charmFile := requireCharm(t)
	pebble := testenv.Pebble(t)
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	t.Cleanup(cancel)

	m := &migration{t: t, ctx: ctx}
	m.source, m.target = startClusterPair(t, dist, tune)
	var err error
	m.src, err = localkafka.NewKit(m.source)
	require.NoError(t, err)
	t.Cleanup(func() { m.src.Close() })
	m.tgt, err = localkafka.NewKit(m.target)
	require.NoError(t, err)
	t.Cleanup(func() { m.tgt.Close() })

	m.sim, err = jujusim.Open(jujusim.Options{
		Dir: filepath.Join(t.TempDir(), "juju"), CharmFile: charmFile, PebbleBin: pebble,
		KafkaHome: dist.Home, HookTimeout: 2 * time.Minute, OwnPods: true,
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

// requireCharm returns the built charm, skipping (or failing under
// $MM_REQUIRE_SANDBOX) when `make charm` has not run.
func requireCharm(t *testing.T) string {
	t.Helper()
	path := jujusim.DefaultCharmFile()
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
func startClusterPair(t *testing.T, dist localkafka.KafkaDist, tune func(*localkafka.ClusterOptions)) (*localkafka.Cluster, *localkafka.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	names := []string{"old", "new"}
	clusters := make([]*localkafka.Cluster, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	begin := time.Now()
	for i, name := range names {
		opts := localkafka.ClusterOptions{Name: name, Dir: t.TempDir()}
		if tune != nil {
			tune(&opts)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			clusters[i], errs[i] = localkafka.StartCluster(ctx, dist, opts)
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
			m.t.Logf("%s %s (tail):\n%s", u, f, logtail.Of(filepath.Join(m.sim.UnitDir(u), f), 20))
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
func (m *migration) createUser(c *localkafka.Cluster) func(context.Context, string, string) error {
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
	id, err := m.sim.Relate(m.ctx, endpoint, jujusim.NewKafkaProvider(app, c.Bootstrap, m.createUser(c), jujusim.SecretFields))
	require.NoError(m.t, err)
	return id
}

// mirrorPrefilled is the start most scenarios share: topic created with
// partitions and filled with records, both relations, start-migration, MM2
// mirroring on every unit and the records copied. It returns the source
// relation's id.
func (m *migration) mirrorPrefilled(topic string, partitions int32, records int) int {
	m.t.Helper()
	m.createTopic(topic, partitions)
	require.NoError(m.t, m.src.Produce(topic, records))
	src := m.relate("source")
	m.relate("target")
	m.startMigration()
	m.waitMirroring()
	m.waitCopied(2*time.Minute, topic)
	return src
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

func (m *migration) pod(unit string) *pods.Pod {
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
	err := poll.Until(m.ctx, 90*time.Second, time.Second, func() (bool, error) {
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

// requireKafkaDist returns the installed Kafka, skipping the test when there
// is none, unless $MM_REQUIRE_SANDBOX is set (CI), where missing is a failure.
func requireKafkaDist(t *testing.T) localkafka.KafkaDist {
	t.Helper()
	testenv.SkipShort(t)
	d, err := localkafka.FindKafkaDist()
	if err != nil {
		testenv.Unavailable(t, "no Kafka for the sandbox: %v", err)
	}
	return d
}
