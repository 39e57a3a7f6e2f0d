package jujusim

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastProbe is JujuLivenessProbe's rule at a pace a unit test can wait for.
var fastProbe = Probe{Period: 200 * time.Millisecond, Timeout: time.Second, FailureThreshold: 3}

func TestGivenPodWhenStartedThenItHasTheRocksLayerAndBrokerStaysDown(t *testing.T) {
	sim := newTestSim(t)
	require.NoError(t, sim.Deploy(context.Background(), 1, nil))
	pod, err := sim.Pod("mirrormaker-k8s/0")
	require.NoError(t, err)
	c, err := pod.Client()
	require.NoError(t, err)
	svcs, err := c.Services(&client.ServicesOptions{Names: []string{"kafka"}})
	require.NoError(t, err)
	require.Len(t, svcs, 1, "the rock's layer is in the plan, copied once as Juju does")
	assert.Equal(t, client.StartupEnabled, svcs[0].Startup)
	assert.Equal(t, client.StatusInactive, svcs[0].Current, "pebble runs --hold: nothing starts on its own")
}

func TestGivenFailingAliveCheckWhenKubeletProbesThenContainerRestartsAndPebbleReadyFires(t *testing.T) {
	sim := newTestSim(t)
	ctx := context.Background()
	require.NoError(t, sim.Deploy(ctx, 1, nil))
	unit := "mirrormaker-k8s/0"
	pod, err := sim.Pod(unit)
	require.NoError(t, err)
	c, err := pod.Client()
	require.NoError(t, err)
	pushed := filepath.Join(sim.UnitDir(unit), "etc-kafka", "install.env") // written by the fake charm
	require.FileExists(t, pushed)
	readyBefore := countEvents(t, sim, unit, "hooks/mirrormaker-pebble-ready")

	sim.StartKubelet(fastProbe)
	// A healthy container is left alone, however long it is probed.
	require.NoError(t, c.AddLayer(&client.AddLayerOptions{Combine: true, Label: "t", LayerData: []byte(
		"checks:\n  quiet:\n    override: replace\n    period: 100ms\n    exec: {command: 'false'}\n")}))
	waitKubeletRounds(t, sim, int64(2*fastProbe.FailureThreshold))
	assert.Equal(t, 0, sim.restarts(unit), "a failing check without a level must not restart the container")

	require.NoError(t, c.AddLayer(&client.AddLayerOptions{Combine: true, Label: "t", LayerData: []byte(
		"checks:\n  dead:\n    override: replace\n    level: alive\n    period: 100ms\n    threshold: 1\n    exec: {command: 'false'}\n")}))
	deadline := time.Now().Add(30 * time.Second)
	for sim.restarts(unit) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond) // polling, with the deadline above
	}
	require.Equal(t, 1, sim.restarts(unit), "a failing alive check restarts the container")
	sim.StopKubelet() // waits for the restart, and its pebble-ready, to finish
	if t.Failed() {
		data, _ := os.ReadFile(filepath.Join(sim.UnitDir(unit), "hooks.log"))
		t.Logf("hooks.log:\n%s", data)
	}

	assert.NoFileExists(t, pushed, "the container's files are lost on restart")
	assert.Equal(t, readyBefore+1, countEvents(t, sim, unit, "hooks/mirrormaker-pebble-ready"))
	newPod, err := sim.Pod(unit)
	require.NoError(t, err)
	assert.NotEqual(t, pod.PID, newPod.PID, "a new Pebble")
	nc, err := newPod.Client()
	require.NoError(t, err)
	checks, err := nc.Checks(&client.ChecksOptions{Names: []string{"dead"}})
	require.NoError(t, err)
	assert.Empty(t, checks, "layers added over the API live in Pebble's memory: gone with the container")
	svcs, err := nc.Services(&client.ServicesOptions{Names: []string{"kafka"}})
	require.NoError(t, err)
	assert.Len(t, svcs, 1, "the rock's layer is back")
}

func countEvents(t *testing.T, sim *Sim, unit, ev string) int {
	t.Helper()
	n := 0
	for _, e := range events(t, sim, unit) {
		if e == ev {
			n++
		}
	}
	return n
}

// waitKubeletRounds waits until the kubelet has made n more rounds of probes.
func waitKubeletRounds(t *testing.T, sim *Sim, n int64) {
	t.Helper()
	want := sim.KubeletRounds() + n
	deadline := time.Now().Add(30 * time.Second)
	for sim.KubeletRounds() < want {
		if time.Now().After(deadline) {
			t.Fatalf("the kubelet made %d rounds of probes, want %d", sim.KubeletRounds(), want)
		}
		time.Sleep(fastProbe.Period / 4) // polling, with the deadline above
	}
}
