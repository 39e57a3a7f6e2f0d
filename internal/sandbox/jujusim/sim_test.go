package jujusim

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/testenv"
	"mirrormaker-k8s/internal/sandbox/pods"
)

// newTestSim opens a Sim over the fake charm in a temp dir, closed (every
// pod torn down) when the test ends, pass or fail.
func newTestSim(t *testing.T) *Sim {
	t.Helper()
	testenv.RequireRoot(t)
	sim, err := Open(Options{Dir: filepath.Join(t.TempDir(), "state"), CharmFile: testenv.FakeCharm(t), PebbleBin: testenv.Pebble(t), HookTimeout: time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, sim.Close()) })
	return sim
}

var eventLine = regexp.MustCompile(`(?m)^EVENT (\S+) remote=(\S*) departing=(\S*)$`)

// events lists what unit's dispatch saw, as "hooks/x" or "hooks/x@remote".
func events(t *testing.T, sim *Sim, unit string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sim.UnitDir(unit), "hooks.log"))
	require.NoError(t, err)
	var out []string
	for _, m := range eventLine.FindAllStringSubmatch(string(data), -1) {
		ev := m[1]
		if m[2] != "" {
			ev += "@" + m[2]
		}
		out = append(out, ev)
	}
	return out
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(data, &out))
	return out
}

func TestGivenNewModelWhenDeployThenSetupHooksRunInJujuOrderInPods(t *testing.T) {
	sim := newTestSim(t)
	ctx := context.Background()
	t.Setenv("SANDBOX_LEAK_CHECK", "leaked")

	require.NoError(t, sim.Deploy(ctx, 2, map[string]any{"tasks-max": 3}))

	assert.Equal(t, []string{
		"hooks/install", "hooks/cluster-relation-created", "hooks/leader-elected", "hooks/config-changed",
		"hooks/start", "hooks/mirrormaker-pebble-ready",
		"hooks/cluster-relation-joined@mirrormaker-k8s/1", "hooks/cluster-relation-changed@mirrormaker-k8s/1",
	}, events(t, sim, "mirrormaker-k8s/0"))
	assert.Equal(t, []string{
		"hooks/install", "hooks/cluster-relation-created", "hooks/config-changed",
		"hooks/start", "hooks/mirrormaker-pebble-ready",
		"hooks/cluster-relation-joined@mirrormaker-k8s/0", "hooks/cluster-relation-changed@mirrormaker-k8s/0",
	}, events(t, sim, "mirrormaker-k8s/1"))

	// The hook environment is Juju's and nothing of ours.
	unit1 := sim.UnitDir("mirrormaker-k8s/1")
	envData, err := os.ReadFile(filepath.Join(unit1, "etc-kafka", "install.env"))
	require.NoError(t, err)
	env := string(envData)
	for _, want := range []string{
		"JUJU_UNIT_NAME=mirrormaker-k8s/1", "JUJU_DISPATCH_PATH=hooks/install", "JUJU_HOOK_NAME=install",
		"JUJU_CHARM_DIR=" + filepath.Join(unit1, "charm"), "JUJU_MODEL_NAME=", "JUJU_VERSION=",
		"PATH=" + filepath.Join(sim.dir, "tools") + ":/usr/local/bin:/usr/bin:/bin", "SANDBOX_MODEL=" + sim.ModelPath(),
	} {
		assert.Contains(t, env, want)
	}
	assert.NotContains(t, env, "SANDBOX_LEAK_CHECK")
	assert.Equal(t, float64(3), readJSON(t, filepath.Join(unit1, "etc-kafka", "config.json"))["tasks-max"])
	assert.Equal(t, ".*", readJSON(t, filepath.Join(unit1, "etc-kafka", "config.json"))["topics"])

	st, err := sim.Status(ctx)
	require.NoError(t, err)
	require.Len(t, st.Units, 2)
	assert.Equal(t, "active", st.Units[1].Workload.Name)
	assert.Equal(t, "started "+st.Units[1].Address, st.Units[1].Workload.Message)
	assert.Regexp(t, `^127\.\d+\.\d+\.12$`, st.Units[1].Address)
	assert.Equal(t, strings.TrimSuffix(st.Units[0].Address, ".11"), strings.TrimSuffix(st.Units[1].Address, ".12"),
		"units of one model share a subnet")
	assert.True(t, st.Units[0].Leader)
	assert.Contains(t, st.String(), "mirrormaker-k8s/0*")

	// Each pod's Pebble answers; its /etc/kafka is its own.
	for _, u := range []string{"mirrormaker-k8s/0", "mirrormaker-k8s/1"} {
		pod, err := sim.Pod(u)
		require.NoError(t, err)
		c, err := pod.Client()
		require.NoError(t, err)
		_, err = c.SysInfo()
		require.NoError(t, err)
	}
	_, err = os.Stat("/etc/kafka/install.env")
	assert.True(t, os.IsNotExist(err), "host /etc/kafka must stay untouched")

	// A second process (the CLI's next call) finds the same world.
	again, err := Open(Options{Dir: sim.dir})
	require.NoError(t, err)
	require.NoError(t, again.UpdateStatus(ctx))
	assert.Contains(t, events(t, sim, "mirrormaker-k8s/1"), "hooks/update-status")
}

func TestGivenProviderWhenRelateThenRequestIsAnsweredWithSecretAndBrokenCleansUp(t *testing.T) {
	sim := newTestSim(t)
	ctx := context.Background()
	require.NoError(t, sim.Deploy(ctx, 2, nil))

	var mu sync.Mutex
	users := map[string]string{}
	create := func(_ context.Context, name, password string) error {
		mu.Lock()
		defer mu.Unlock()
		users[name] = password
		return nil
	}
	id, err := sim.Relate(ctx, "source", NewKafkaProvider("kafka-old", "127.0.0.1:9092", create, SecretFields))
	require.NoError(t, err)
	user := "relation-" + strconv.Itoa(id)
	require.Contains(t, users, user)

	assert.Equal(t, []string{
		"hooks/source-relation-created", "hooks/source-relation-joined@kafka-old/0", "hooks/source-relation-changed@kafka-old/0",
	}, events(t, sim, "mirrormaker-k8s/1")[7:])
	for _, u := range []string{"mirrormaker-k8s/0", "mirrormaker-k8s/1"} {
		data := readJSON(t, filepath.Join(sim.UnitDir(u), "etc-kafka", "source.json"))
		assert.Equal(t, "127.0.0.1:9092", data["endpoints"])
		assert.Equal(t, "__mirrormaker-user", data["topic"])
		assert.Equal(t, "disabled", data["tls"])
		assert.NotContains(t, data, "password")
		secret := readJSON(t, filepath.Join(sim.UnitDir(u), "etc-kafka", "source-secret.json"))
		assert.Equal(t, user, secret["username"])
		assert.Equal(t, users[user], secret["password"])
	}

	// Rotating the password reaches the units that read it.
	m, err := sim.Model(ctx)
	require.NoError(t, err)
	uri := m.Relation(id).Data["kafka-old"]["secret-user"]
	require.NoError(t, sim.UpdateSecret(ctx, uri, map[string]string{"username": user, "password": "rotated"}))
	assert.Contains(t, events(t, sim, "mirrormaker-k8s/0"), "hooks/secret-changed")
	assert.Equal(t, "rotated", readJSON(t, filepath.Join(sim.UnitDir("mirrormaker-k8s/0"), "etc-kafka", "source-secret.json"))["password"])

	require.NoError(t, sim.RemoveRelation(ctx, "source"))
	evs := events(t, sim, "mirrormaker-k8s/1")
	assert.Equal(t, []string{"hooks/source-relation-departed@kafka-old/0", "hooks/source-relation-broken"}, evs[len(evs)-2:])
	assert.NoFileExists(t, filepath.Join(sim.UnitDir("mirrormaker-k8s/1"), "etc-kafka", "source.json"))
	m, err = sim.Model(ctx)
	require.NoError(t, err)
	for _, r := range m.Relations {
		assert.NotEqual(t, "source", r.Endpoint)
	}
}

func TestGivenPlainFieldsProviderWhenRelateThenCredentialsArePlain(t *testing.T) {
	sim := newTestSim(t)
	ctx := context.Background()
	require.NoError(t, sim.Deploy(ctx, 1, nil))
	create := func(context.Context, string, string) error { return nil }
	_, err := sim.Relate(ctx, "source", NewKafkaProvider("kafka-old", "127.0.0.1:9092", create, PlainFields))
	require.NoError(t, err)
	data := readJSON(t, filepath.Join(sim.UnitDir("mirrormaker-k8s/0"), "etc-kafka", "source.json"))
	assert.Equal(t, "relation-1", data["username"])
	assert.NotEmpty(t, data["password"])
	assert.NotContains(t, data, "secret-user")
}

func TestGivenUnitsWhenScaleThenPeersAndLeadershipFollowJuju(t *testing.T) {
	sim := newTestSim(t)
	ctx := context.Background()
	require.NoError(t, sim.Deploy(ctx, 1, nil))

	unit, err := sim.AddUnit(ctx)
	require.NoError(t, err)
	assert.Equal(t, "mirrormaker-k8s/1", unit)
	assert.Equal(t, []string{
		"hooks/install", "hooks/cluster-relation-created", "hooks/config-changed", "hooks/start",
		"hooks/mirrormaker-pebble-ready",
		"hooks/cluster-relation-joined@mirrormaker-k8s/0", "hooks/cluster-relation-changed@mirrormaker-k8s/0",
	}, events(t, sim, unit))
	assert.Equal(t, []string{"hooks/cluster-relation-joined@mirrormaker-k8s/1", "hooks/cluster-relation-changed@mirrormaker-k8s/1"},
		events(t, sim, "mirrormaker-k8s/0")[6:])

	leaver, err := sim.Pod("mirrormaker-k8s/0")
	require.NoError(t, err)
	require.NoError(t, sim.RemoveUnit(ctx, "mirrormaker-k8s/0"))
	assert.Empty(t, leaver.Processes())
	assert.Equal(t, []string{
		"hooks/cluster-relation-departed@mirrormaker-k8s/1", "hooks/cluster-relation-broken", "hooks/stop", "hooks/remove",
	}, events(t, sim, "mirrormaker-k8s/0")[8:])
	evs := events(t, sim, "mirrormaker-k8s/1")
	assert.Equal(t, []string{"hooks/cluster-relation-departed@mirrormaker-k8s/0", "hooks/leader-elected"}, evs[len(evs)-2:])
	leader, err := sim.Leader(ctx)
	require.NoError(t, err)
	assert.Equal(t, "mirrormaker-k8s/1", leader)

	next, err := sim.AddUnit(ctx)
	require.NoError(t, err)
	assert.Equal(t, "mirrormaker-k8s/2", next, "unit numbers are never reused")
	m, err := sim.Model(ctx)
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSuffix(m.Addresses["mirrormaker-k8s/1"], ".12")+".13", m.Addresses[next])
}

func TestGivenDeployedWhenActionsRunThenResultsLogsAndFailuresComeBack(t *testing.T) {
	sim := newTestSim(t)
	ctx := context.Background()
	require.NoError(t, sim.Deploy(ctx, 2, nil))

	res, err := sim.Run(ctx, "leader", "hello", nil)
	require.NoError(t, err)
	assert.Equal(t, "hello world", res.Results["greeting"])
	assert.Equal(t, "mirrormaker-k8s/0", res.Results["unit"])
	assert.Equal(t, []string{"saying hello to world"}, res.Logs)
	assert.False(t, res.Failed)

	res, err = sim.Run(ctx, "1", "hello", map[string]any{"name": "kafka"})
	require.NoError(t, err)
	assert.Equal(t, "hello kafka", res.Results["greeting"])

	// The leader's peer app data reaches the other unit as relation-changed.
	_, err = sim.Run(ctx, "leader", "share", nil)
	require.NoError(t, err)
	evs := events(t, sim, "mirrormaker-k8s/1")
	assert.Equal(t, "hooks/cluster-relation-changed", evs[len(evs)-1])
	assert.Equal(t, "mirroring", readJSON(t, filepath.Join(sim.UnitDir("mirrormaker-k8s/1"), "etc-kafka", "peer.json"))["phase"])

	res, err = sim.Run(ctx, "mirrormaker-k8s/leader", "refuse", nil)
	require.NoError(t, err)
	assert.True(t, res.Failed)
	assert.Equal(t, "refused", res.Message)
}

// TestGivenARunningActionWhenAnotherIsRunAndLeadershipMovesThenItQueuesAndTheOldLeaderIsRefused:
// Juju queues an action behind the one running (the model's single action slot is not taken
// over), and a leader whose lease lapses mid-action finds is-leader false and its application
// data writes refused, while the new leader gets leader-elected at once.
func TestGivenARunningActionWhenAnotherIsRunAndLeadershipMovesThenItQueuesAndTheOldLeaderIsRefused(t *testing.T) {
	sim := newTestSim(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, sim.Deploy(ctx, 2, nil))
	etc := filepath.Join(sim.UnitDir("mirrormaker-k8s/0"), "etc-kafka")

	type outcome struct {
		res ActionResult
		err error
	}
	held, greeted := make(chan outcome, 1), make(chan outcome, 1)
	go func() {
		res, err := sim.Run(ctx, "leader", "hold", nil)
		held <- outcome{res, err}
	}()
	require.Eventually(t, func() bool { _, err := os.Stat(filepath.Join(etc, "holding")); return err == nil },
		time.Minute, 20*time.Millisecond, "the hold action to start")
	go func() {
		res, err := sim.Run(ctx, "mirrormaker-k8s/0", "hello", map[string]any{"name": "queue"})
		greeted <- outcome{res, err}
	}()
	require.NoError(t, sim.MoveLeadership(ctx, "mirrormaker-k8s/1"))
	evs := events(t, sim, "mirrormaker-k8s/1")
	assert.Equal(t, "hooks/leader-elected", evs[len(evs)-1])
	require.NoError(t, os.WriteFile(filepath.Join(etc, "release"), nil, 0o600))

	h := <-held
	require.NoError(t, h.err)
	assert.Equal(t, map[string]string{"held": "yes", "leader": "false", "shared": "refused"}, h.res.Results,
		"the old leader's action keeps its slot, is no longer leader and may not write application data")
	g := <-greeted
	require.NoError(t, g.err)
	assert.Equal(t, map[string]string{"greeting": "hello queue", "unit": "mirrormaker-k8s/0"}, g.res.Results,
		"the queued action ran after, with its own parameters and results")
	leader, err := sim.Leader(ctx)
	require.NoError(t, err)
	assert.Equal(t, "mirrormaker-k8s/1", leader)
}

func TestGivenFailingHookWhenConfigChangedThenErrorCarriesTailAndStatusShowsIt(t *testing.T) {
	sim := newTestSim(t)
	ctx := context.Background()
	require.NoError(t, sim.Deploy(ctx, 1, nil))

	err := sim.SetConfig(ctx, map[string]any{"fail": true})
	var he *hookError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "config-changed", he.Hook)
	assert.Equal(t, 3, he.ExitCode)
	assert.Contains(t, he.Tail, "failing as asked")
	st, err := sim.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, "error", st.Units[0].Agent)
	assert.Contains(t, st.String(), `hook failed: "config-changed"`)

	require.NoError(t, sim.SetConfig(ctx, map[string]any{"fail": nil}))
	st, err = sim.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, "idle", st.Units[0].Agent)
}

func TestGivenRunningServicesWhenCloseThenNothingIsLeft(t *testing.T) {
	sim := newTestSim(t)
	ctx := context.Background()
	require.NoError(t, sim.Deploy(ctx, 2, nil))
	var pods []*pods.Pod
	for _, u := range []string{"mirrormaker-k8s/0", "mirrormaker-k8s/1"} {
		pod, err := sim.Pod(u)
		require.NoError(t, err)
		pods = append(pods, pod)
		c, err := pod.Client()
		require.NoError(t, err)
		layer := "services:\n  sleeper:\n    override: replace\n    command: sleep 1000\n    user: kafka\n"
		require.NoError(t, c.AddLayer(&client.AddLayerOptions{Label: "test", LayerData: []byte(layer)}))
		id, err := c.Start(&client.ServiceOptions{Names: []string{"sleeper"}})
		require.NoError(t, err)
		_, err = c.WaitChange(id, &client.WaitChangeOptions{Timeout: 30 * time.Second})
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(pod.Processes()), 2, "pebble and the sleeper")
	}
	require.NoError(t, sim.Close())
	for _, pod := range pods {
		assert.Empty(t, pod.Processes())
	}
}
