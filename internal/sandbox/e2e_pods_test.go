package sandbox

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/sandbox/pods"
	"mirrormaker-k8s/internal/workload"
)

// What the end-to-end tests assert of the pods themselves: who runs MM2 and owns its files,
// which Pebble changes ran, and what Kubernetes or the rock would have punished.

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

// kafkaUID is the uid the pod's /etc/passwd gives the workload user.
func kafkaUID(t *testing.T, pod *pods.Pod) int {
	t.Helper()
	f, err := os.Open(filepath.Join(pod.Dir, "passwd"))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) > 2 && fields[0] == pods.WorkloadUser {
			uid, err := strconv.Atoi(fields[2])
			require.NoError(t, err)
			return uid
		}
	}
	t.Fatalf("no %s user in %s", pods.WorkloadUser, f.Name())
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
func podFile(pod *pods.Pod, containerPath string) string {
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
			assert.Equal(t, uid, processUID(t, pid), "%s: MM2 must run as %s", u, pods.WorkloadUser)
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

// changesSince is the changes in after that before did not hold, as
// "<kind> <status>" ("restart Done"), oldest first.
func changesSince(before, after []*client.Change) []string {
	var kinds []string
	for _, c := range after {
		if !slices.ContainsFunc(before, func(b *client.Change) bool { return b.ID == c.ID }) {
			kinds = append(kinds, c.Kind+" "+c.Status)
		}
	}
	return kinds
}
