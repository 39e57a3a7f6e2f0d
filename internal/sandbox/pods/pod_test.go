package pods

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/testenv"
)

func TestPodHasItsOwnPathsAndPebble(t *testing.T) {
	testenv.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hostCharm := snapshotDir(t, "/charm")
	hostKafka := snapshotDir(t, "/etc/kafka")

	pod, err := Start(ctx, Options{Dir: filepath.Join(t.TempDir(), "pod"), PebbleBin: testenv.Pebble(t)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pod.Stop(context.Background()) })

	env := []string{"PATH=/usr/bin:/bin", "PEBBLE_SOCKET=" + socket}
	out, err := pod.Command(ctx, env, "/", testenv.Pebble(t), "services").CombinedOutput()
	require.NoError(t, err, string(out))

	out, err = pod.Command(ctx, env, "/", "sh", "-c", "touch /etc/kafka/marker && id kafka && test -S "+socket+" && pwd").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "uid=")
	require.FileExists(t, filepath.Join(pod.Dir, "etc-kafka", "marker"))
	require.Equal(t, hostKafka, snapshotDir(t, "/etc/kafka"))
	require.Equal(t, hostCharm, snapshotDir(t, "/charm"))

	again, err := Attach(pod.Dir)
	require.NoError(t, err)
	require.Equal(t, pod.PID, again.PID)

	require.NoError(t, pod.Stop(ctx))
	require.Empty(t, pod.Processes())
	_, err = Attach(pod.Dir)
	require.Error(t, err)
}

// snapshotDir lists the names under dir, so a test can prove a pod left the
// host's folder as it was.
func snapshotDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "" // a missing folder reads as empty: a pod may leave an empty mount point
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, ",")
}

func TestGivenTwoPodsWhenAFileIsPushedToOptMirrormakerThenOnlyItsPodHasIt(t *testing.T) {
	testenv.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const path = "/opt/mirrormaker-k8s/bin/exporter"
	hostOpt := snapshotDir(t, "/opt/mirrormaker-k8s")
	var pods []*Pod
	var opts []Options
	for _, name := range []string{"a", "b"} {
		o := Options{Dir: filepath.Join(t.TempDir(), name), PebbleBin: testenv.Pebble(t)}
		pod, err := Start(ctx, o)
		require.NoError(t, err)
		t.Cleanup(func() { _ = pod.Stop(context.Background()) })
		pods, opts = append(pods, pod), append(opts, o)
	}
	c, err := pods[0].Client()
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	require.NoError(t, c.Push(&client.PushOptions{Source: strings.NewReader("#!/bin/sh\necho exported\n"), Path: path,
		MakeDirs: true, Permissions: 0o755}))

	env := []string{"PATH=/usr/bin:/bin"}
	out, err := pods[0].Command(ctx, env, "/", path).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Equal(t, "exported\n", string(out))
	require.FileExists(t, filepath.Join(pods[0].Dir, "opt-mirrormaker-k8s", "bin", "exporter"))

	out, err = pods[1].Command(ctx, env, "/", "test", "!", "-e", path).CombinedOutput()
	require.NoError(t, err, "the other pod must not see it: %s", out)
	require.NoFileExists(t, path, "the host must not see it")
	require.Equal(t, hostOpt, snapshotDir(t, "/opt/mirrormaker-k8s"))

	// It is the container's own filesystem: a container restart loses it.
	restarted, err := Restart(ctx, pods[0], opts[0])
	require.NoError(t, err)
	t.Cleanup(func() { _ = restarted.Stop(context.Background()) })
	out, err = restarted.Command(ctx, env, "/", "test", "!", "-e", path).CombinedOutput()
	require.NoError(t, err, "a restarted container starts without pushed files: %s", out)
}
