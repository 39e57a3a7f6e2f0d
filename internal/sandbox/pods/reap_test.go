package pods

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/internal/testenv"
)

// reapChildEnv makes the test binary, run again, play a test run killed
// with its pod up: it starts an owned pod with a service, says so, and waits
// to be killed.
const reapChildEnv = "PODS_REAP_CHILD_DIR"

// TestGivenARunKilledWithItsPodUpThenReapKillsWhatItLeft: a process that
// owns a pod is SIGKILLed (as go test's timeout does) while the pod's Pebble
// and a service run; they outlive it (a pod has its own session), and Reap,
// as the next run's TestMain calls it, kills both. An unowned pod (the
// CLI's) is left alone.
func TestGivenARunKilledWithItsPodUpThenReapKillsWhatItLeft(t *testing.T) {
	if dir := os.Getenv(reapChildEnv); dir != "" {
		runOwnedPod(t, dir)
		return
	}
	testenv.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	unowned, err := Start(ctx, Options{Dir: filepath.Join(t.TempDir(), "unowned"), PebbleBin: testenv.Pebble(t)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = unowned.Stop(context.Background()) })

	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestGivenARunKilledWithItsPodUpThenReapKillsWhatItLeft$", "-test.timeout=2m")
	child.Env = append(os.Environ(), reapChildEnv+"="+dir, "PEBBLE_BIN="+testenv.Pebble(t))
	out := &strings.Builder{}
	child.Stdout, child.Stderr = out, out
	require.NoError(t, child.Start())
	ready := filepath.Join(dir, "ready")
	err = poll.Until(ctx, time.Minute, 50*time.Millisecond, func() (bool, error) {
		_, err := os.Stat(ready)
		return err == nil, nil
	}, "the child to start its pod")
	require.NoError(t, err, "child output: %s", out)
	data, err := os.ReadFile(ready)
	require.NoError(t, err)
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(f)
		require.NoError(t, err)
		pids = append(pids, pid)
	}
	require.Len(t, pids, 2, "pebble and the service")

	require.NoError(t, child.Process.Kill())
	_ = child.Wait()
	for _, pid := range pids {
		require.NoError(t, syscall.Kill(pid, 0), "pid %d did not outlive its owner: nothing to reap", pid)
	}

	killed, err := Reap()
	require.NoError(t, err)
	for _, pid := range pids {
		require.Contains(t, killed, pid)
	}
	require.True(t, poll.For(10*time.Second, func() bool {
		for _, pid := range pids {
			if syscall.Kill(pid, 0) == nil && !isZombie(pid) {
				return false
			}
		}
		return true
	}), "pebble and its service still run after Reap")
	require.True(t, unowned.alive(), "an unowned pod is left alone")
}

// runOwnedPod is the child's side: an owned pod with a long service, the
// pids written to dir/ready, then a wait to be killed.
func runOwnedPod(t *testing.T, dir string) {
	ctx := context.Background()
	pod, err := Start(ctx, Options{Dir: filepath.Join(dir, "pod"), PebbleBin: os.Getenv("PEBBLE_BIN"), Owned: true})
	require.NoError(t, err)
	c, err := pod.Client()
	require.NoError(t, err)
	layer := "services:\n  long:\n    override: replace\n    command: sleep 3600\n    startup: enabled\n"
	require.NoError(t, c.AddLayer(&client.AddLayerOptions{Label: "long", LayerData: []byte(layer)}))
	_, err = c.Start(&client.ServiceOptions{Names: []string{"long"}})
	require.NoError(t, err)
	var service int
	require.True(t, poll.For(30*time.Second, func() bool {
		for _, pid := range pod.Processes() {
			if cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); strings.HasPrefix(string(cmd), "sleep\x003600") {
				service = pid
				return true
			}
		}
		return false
	}))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ready"), []byte(strconv.Itoa(pod.PID)+" "+strconv.Itoa(service)), 0o600))
	select {} // killed by the parent
}
