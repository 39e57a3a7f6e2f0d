package workload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pebbles are the real Pebble daemons the workload is tested against, built
// once by TestMain: the version go.mod pins, and the oldest a supported Juju
// ships (tools/pebble-oldest), whose layer parser is the strictest.
var pebbles []pebbleDaemon

type pebbleDaemon struct{ name, bin string }

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "workload-pebble-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	for _, d := range []struct{ name, module string }{
		{"current", "."},
		{"oldest", "../../tools/pebble-oldest"},
	} {
		bin := filepath.Join(dir, "pebble-"+d.name)
		build := exec.Command("go", "build", "-C", d.module, "-o", bin, "github.com/canonical/pebble/cmd/pebble")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "cannot build the %s pebble: %v\n%s", d.name, err, out)
			return 1
		}
		pebbles = append(pebbles, pebbleDaemon{d.name, bin})
	}
	return m.Run()
}

// realPebble is one `pebble run` in its own temp dir, and a service script
// that records each start (pid and $MARK) before exec'ing sleep. Like the
// Charmed Kafka rock, the container already has a layer with a broker
// service of its own, startup enabled, which must never be started.
type realPebble struct {
	dir    string
	client *client.Client
	w      *Workload
}

func startPebble(t *testing.T, daemon pebbleDaemon) *realPebble {
	t.Helper()
	dir := t.TempDir()
	socket := filepath.Join(dir, "pebble.socket")
	rockLayer := "services:\n  kafka:\n    override: replace\n    startup: enabled\n" +
		"    command: /bin/sh -c 'echo $$ >> " + filepath.Join(dir, "broker-starts") + "; exec sleep 1000'\n"
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "state/layers"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "state/layers/001-rock.yaml"), []byte(rockLayer), 0o644))
	// --hold, as Juju runs the workload container's Pebble.
	cmd := exec.Command(daemon.bin, "run", "--hold", "--create-dirs")
	cmd.Env = append(os.Environ(), "PEBBLE="+filepath.Join(dir, "state"), "PEBBLE_SOCKET="+socket)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs, err := os.Create(filepath.Join(dir, "pebble.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	p := &realPebble{dir: dir}
	t.Cleanup(func() { p.kill(t, cmd) })

	script := "#!/bin/sh\necho \"$$ $MARK\" >> " + filepath.Join(dir, "starts") + "\nexec sleep 1000\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mm2.sh"), []byte(script), 0o755))

	p.client, err = client.New(&client.Config{Socket: socket})
	require.NoError(t, err)
	p.w = New(p.client)
	p.w.ChangeTimeout = 10 * time.Second
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := p.w.Ready()
		if err == nil {
			break
		}
		require.ErrorIs(t, err, ErrNotReady)
		if time.Now().After(deadline) {
			t.Fatalf("pebble did not come up: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling, with the deadline above
	}
	return p
}

// kill stops the daemon (which stops its services), then kills anything left:
// the daemon's process group and each service's own process group.
func (p *realPebble) kill(t *testing.T, cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	for _, s := range append(p.starts(t), p.startsIn(t, companionStarts)...) {
		_ = syscall.Kill(-s.pid, syscall.SIGKILL)
	}
	if t.Failed() {
		if out, err := os.ReadFile(filepath.Join(p.dir, "pebble.log")); err == nil {
			t.Logf("pebble log:\n%s", out)
		}
	}
}

type start struct {
	pid  int
	mark string
}

func (p *realPebble) starts(t *testing.T) []start { return p.startsIn(t, "starts") }

// startsIn reads the starts a service script recorded in the named file.
func (p *realPebble) startsIn(t *testing.T, name string) []start {
	data, err := os.ReadFile(filepath.Join(p.dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	var out []start
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		pid, mark, _ := strings.Cut(line, " ")
		n, err := strconv.Atoi(pid)
		require.NoError(t, err)
		out = append(out, start{n, mark})
	}
	return out
}

func (p *realPebble) changeCount(t *testing.T) int {
	chgs, err := p.client.Changes(&client.ChangesOptions{Selector: client.ChangesAll})
	require.NoError(t, err)
	return len(chgs)
}

func (p *realPebble) desired(props, mark string) Desired {
	return Desired{
		Files: []File{
			{Path: filepath.Join(p.dir, "etc/mm2.properties"), Content: []byte(props), Perm: 0o644},
			{Path: filepath.Join(p.dir, "etc/mm2-secrets.properties"), Content: []byte(secretContent), Perm: 0o600},
		},
		Service: Service{
			Command:     filepath.Join(p.dir, "mm2.sh"),
			Environment: map[string]string{"MARK": mark},
		},
		Running: true,
	}
}

// TestRealPebble walks one workload through the changes a charm makes, on
// each daemon, and counts the processes the real daemon starts.
func TestRealPebble(t *testing.T) {
	for _, daemon := range pebbles {
		t.Run(daemon.name, func(t *testing.T) { testRealPebble(t, daemon) })
	}
}

func testRealPebble(t *testing.T, daemon pebbleDaemon) {
	r := &pebbleRun{t: t, p: startPebble(t, daemon)}
	d := r.filesAndEnvironment()
	d = r.livenessCheck(d)
	r.stopAndStart(d)

	assert.NoFileExists(t, filepath.Join(r.p.dir, "broker-starts"), "the rock's own broker service was started")
	for _, level := range []string{"alive", "ready"} {
		assert.Equal(t, "200", r.p.health(t, level), "health at level %s", level)
	}
}

// pebbleRun is one daemon taken through testRealPebble's steps, each building on the last.
type pebbleRun struct {
	t     *testing.T
	p     *realPebble
	known map[string]Stamp // the last step's stamps, handed to the next as a charm does
}

// step applies d and checks how many times MM2 started, and with which environment.
func (r *pebbleRun) step(name string, d Desired, wantStarts int, wantMark string) Result {
	t := r.t
	t.Helper()
	before := len(r.p.starts(t))
	d.Known = r.known
	res, err := r.p.w.Apply(d)
	require.NoError(t, err, name)
	assert.Equal(t, mustState(t, r.p.w), res.State, "%s: the state Apply reports is Pebble's", name)
	r.known = res.Stamps
	res.State, res.Stamps = "", nil
	got := r.p.starts(t)
	assert.Equal(t, wantStarts, len(got)-before, "%s: processes started", name)
	if wantMark != "" && len(got) > 0 {
		assert.Equal(t, wantMark, got[len(got)-1].mark, "%s: environment of the last start", name)
	}
	return res
}

// filesAndEnvironment: the first start, then a restart for each change of a file or of the
// environment, and nothing at all when nothing changed.
func (r *pebbleRun) filesAndEnvironment() Desired {
	t, p := r.t, r.p
	d := p.desired("a=1\n", "one")
	res := r.step("first apply", d, 1, "one")
	assert.Len(t, res.Pushed, 2)
	assert.True(t, res.LayerChanged)
	assert.True(t, res.Started)
	assert.Equal(t, StateActive, mustState(t, p.w))
	info, err := os.Stat(filepath.Join(p.dir, "etc/mm2-secrets.properties"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "secrets file mode")

	changes := p.changeCount(t)
	res = r.step("same again", d, 0, "")
	assert.Equal(t, Result{}, res)
	assert.Equal(t, changes, p.changeCount(t), "same again: no new Pebble changes")

	d = p.desired("a=2\n", "one")
	res = r.step("file changed", d, 1, "one")
	assert.Equal(t, Result{Pushed: []string{d.Files[0].Path}, Restarted: true}, res)

	d = p.desired("a=2\n", "two")
	res = r.step("environment changed", d, 1, "two")
	assert.Equal(t, Result{LayerChanged: true, Restarted: true}, res)

	d = p.desired("a=3\n", "three")
	res = r.step("file and environment changed", d, 1, "three")
	assert.Equal(t, Result{Pushed: []string{d.Files[0].Path}, LayerChanged: true, Restarted: true}, res)
	return d
}

// livenessCheck: adding, changing and removing MM2's check, which must never fail the
// container's liveness probe nor run while it is removed.
func (r *pebbleRun) livenessCheck(d Desired) Desired {
	t, p := r.t, r.p
	d.Service.CheckURL = "http://127.0.0.1:1/"
	r.step("check added", d, 1, "three") // on-check-failure is part of the service
	assert.Equal(t, "200", p.health(t, "alive"), "a failing MM2 check must never fail the liveness probe")

	d = p.desired("a=4\n", "three")
	d.Service.CheckURL = "http://127.0.0.1:2/"
	res := r.step("check URL and file changed", d, 1, "three")
	assert.Equal(t, Result{Pushed: []string{d.Files[0].Path}, LayerChanged: true, Restarted: true}, res)

	changes := p.changeCount(t)
	r.step("same again, with a check", d, 0, "")
	assert.Equal(t, changes, p.changeCount(t), "no new Pebble changes")

	d.Service.CheckURL = ""
	res = r.step("check removed", d, 1, "three") // on-check-failure goes: service config
	assert.True(t, res.LayerChanged)
	changes = p.changeCount(t)
	r.step("same again, check removed", d, 0, "")
	assert.Equal(t, changes, p.changeCount(t), "no new Pebble changes")
	p.checkInert(t)

	d.Service.CheckURL = "http://127.0.0.1:2/"
	res = r.step("check back", d, 1, "three")
	assert.True(t, res.LayerChanged)
	return d
}

// stopAndStart: stopping through Apply and through Stop, each once, and starting again.
func (r *pebbleRun) stopAndStart(d Desired) {
	t, p := r.t, r.p
	d.Running = false
	res := r.step("stop", d, 0, "")
	assert.True(t, res.Stopped)
	assert.Equal(t, StateInactive, mustState(t, p.w))
	p.checkInert(t) // no check runs while MM2 is meant to be stopped
	changes := p.changeCount(t)
	res = r.step("stopped, same again", d, 0, "")
	assert.Equal(t, Result{}, res)
	assert.Equal(t, changes, p.changeCount(t), "no new Pebble changes")

	d.Running = true
	res = r.step("start again", d, 1, "three")
	assert.True(t, res.Started)

	stoppedNow, err := p.w.Stop()
	require.NoError(t, err)
	assert.True(t, stoppedNow)
	stoppedNow, err = p.w.Stop()
	require.NoError(t, err)
	assert.False(t, stoppedNow)
}

// checkInert asserts that our check, if any, is the inert stand-in: no level,
// no HTTP probe.
func (p *realPebble) checkInert(t *testing.T) {
	t.Helper()
	checks, err := p.client.Checks(&client.ChecksOptions{Names: []string{CheckName}})
	require.NoError(t, err)
	require.Len(t, checks, 1)
	assert.Equal(t, client.CheckLevel(""), checks[0].Level)
	plan, err := p.client.PlanBytes(nil)
	require.NoError(t, err)
	current, err := parsePlan(plan)
	require.NoError(t, err)
	assert.Equal(t, inertCheck().Exec, current.Checks[CheckName].Exec)
	assert.Nil(t, current.Checks[CheckName].HTTP)
}

// health is the status code of Pebble's /v1/health at level, what Juju's
// Kubernetes probes of the workload container get.
func (p *realPebble) health(t *testing.T, level string) string {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(p.dir, "pebble.socket"))
	}}, Timeout: 5 * time.Second}
	resp, err := hc.Get("http://localhost/v1/health?level=" + level)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return strconv.Itoa(resp.StatusCode)
}

// TestRealPebbleFailedStart checks that a service that dies at once fails
// Apply with the change and its logs.
func TestRealPebbleFailedStart(t *testing.T) {
	p := startPebble(t, pebbles[0])
	d := p.desired("a=1\n", "x")
	d.Service.Command = "/bin/sh -c 'echo mm2 cannot start; exit 3'"
	_, err := p.w.Apply(d)
	var ce *ChangeError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "start", ce.Action)
	assert.Contains(t, err.Error(), "exited")
	assert.Contains(t, strings.Join(ce.Logs, "\n"), "mm2 cannot start")
}
