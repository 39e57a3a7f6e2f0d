package main

import (
	"archive/zip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"mirrormaker-k8s/hooks/hookstest"
	"mirrormaker-k8s/internal/sandbox/jujusim"
	"mirrormaker-k8s/internal/sandbox/pods"
)

// BenchmarkDispatchUpdateStatus is what one hook costs a unit: the shipped
// binary, built here as `make build` does, started as Juju starts it,
// against a real Pebble.
//
// One op is one whole dispatch, as a unit agent would see it: exec of the
// static binary (inside the unit's pod, through nsenter), reading the hook
// context, every hook tool call the hook makes (each a process: the
// sandbox's multi-call tool binary, which locks, reads and writes the model
// file), and the Pebble calls over the unit socket (plan, files compared
// with what is there, service state). Two units are related on both sides to
// providers whose brokers are never dialled, with mm2.properties rendered and
// pushed, so each hook is the steady state: it pushes, replans and starts
// nothing. The sub-benchmarks:
//
//   - update-status/non-leader and /leader, the migration not started;
//   - update-status/non-leader-mirroring and /leader-mirroring once the
//     leader's peer data says started (written with relation-set, as
//     start-migration would after a preflight these brokers cannot pass) and
//     each unit's MM2 runs (a stand-in launcher that sleeps). The leader then
//     measures: its dial of the source is refused at once, so the figure is
//     the hook's own cost and the status says the source is unreachable;
//   - config-changed/non-leader, an event that reads the whole model;
//   - one-tool-call, a single hook tool (is-leader) started the same way;
//     nsenter-baseline, entering the pod alone (/bin/true), which a real K8s
//     pod does not pay.
//
// Each dispatch benchmark first runs one dispatch through tools that count
// their calls and a proxy on the Pebble socket that counts requests, and
// reports both per op (tool-calls/op, pebble-requests/op; pebble-connects/op
// counts connections, the readiness probe's included).
//
// Needs root (pods are mount namespaces) and `make pebble`; skips without.
func BenchmarkDispatchUpdateStatus(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("skipping: the sandbox pods need root")
	}
	pebble := jujusim.DefaultPebbleBin()
	if _, err := os.Stat(pebble); err != nil {
		b.Skipf("skipping: no pebble daemon (run make pebble): %v", err)
	}
	dir := b.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	b.Cleanup(cancel)

	charmFile := buildCharm(b, dir)
	sim, err := jujusim.Open(jujusim.Options{Dir: filepath.Join(dir, "juju"), CharmFile: charmFile, PebbleBin: pebble,
		KafkaHome: standInKafka(b, dir)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := sim.Close(); err != nil {
			b.Error(err)
		}
	})
	if err := sim.Deploy(ctx, 2, map[string]any{"replication-factor": 1, "internal-replication-factor": 1}); err != nil {
		b.Fatal(err)
	}
	// Providers whose brokers are never dialled: a non-leader has no reason to.
	noUsers := func(context.Context, string, string) error { return nil }
	for _, rel := range []struct{ endpoint, app string }{{"source", "kafka-old"}, {"target", "kafka-k8s"}} {
		if _, err := sim.Relate(ctx, rel.endpoint, jujusim.NewKafkaProvider(rel.app, "127.0.0.1:9", noUsers, jujusim.SecretFields)); err != nil {
			b.Fatal(err)
		}
	}
	leader, err := sim.Leader(ctx)
	if err != nil {
		b.Fatal(err)
	}
	follower := nonLeader(ctx, b, sim)
	bench := &dispatchBench{b: b, ctx: ctx, sim: sim, dir: dir, tools: toolsDir(b, dir, "tools", "")}
	for _, u := range []string{follower, leader} {
		bench.dispatch(u, "update-status") // each unit's first update-status writes its cache
	}
	bench.expectStatus(follower, "ready: run start-migration")

	b.Run("update-status/non-leader", func(b *testing.B) { bench.run(b, follower, "update-status") })
	b.Run("update-status/leader", func(b *testing.B) { bench.run(b, leader, "update-status") })
	b.Run("config-changed/non-leader", func(b *testing.B) { bench.run(b, follower, "config-changed") })

	bench.startMigration(leader)
	for _, u := range []string{follower, leader} {
		bench.dispatch(u, "config-changed") // as cluster-relation-changed would: MM2 starts
		bench.dispatch(u, "update-status")
	}
	bench.expectStatus(follower, "mirroring")
	b.Run("update-status/non-leader-mirroring", func(b *testing.B) { bench.run(b, follower, "update-status") })
	b.Run("update-status/leader-mirroring", func(b *testing.B) { bench.run(b, leader, "update-status") })
	b.Run("ops-charm/update-status/non-leader-mirroring", func(b *testing.B) { bench.runOps(b, follower, "update-status") })
	st, err := sim.Status(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, u := range st.Units {
		b.Logf("%s: %s: %s", u.Name, u.Workload.Name, u.Workload.Message)
	}

	pod, err := sim.Pod(follower)
	if err != nil {
		b.Fatal(err)
	}
	env := bench.env(follower, "update-status", bench.tools)
	b.Run("one-tool-call", func(b *testing.B) {
		for b.Loop() {
			bench.exec(b, pod, env, filepath.Join(bench.tools, "is-leader"), "--format=json")
		}
	})
	b.Run("nsenter-baseline", func(b *testing.B) {
		for b.Loop() {
			bench.exec(b, pod, env, "/bin/true")
		}
	})
}

// dispatchBench runs the charm's dispatch in the sandbox's pods.
type dispatchBench struct {
	b     *testing.B
	ctx   context.Context
	sim   *jujusim.Sim
	dir   string
	tools string // plain hook tools
	n     int    // counting runs so far, for their files
}

// env is the environment the simulator gives unit's hook, with tools first on PATH.
func (d *dispatchBench) env(unit, hook, tools string) []string {
	d.b.Helper()
	model, err := d.sim.Model(d.ctx)
	if err != nil {
		d.b.Fatal(err)
	}
	pod, err := d.sim.Pod(unit)
	if err != nil {
		d.b.Fatal(err)
	}
	return hookEnv(model.Env(unit, hook, nil, ""), pod.CharmDir, tools, d.sim.ModelPath())
}

func (d *dispatchBench) exec(tb testing.TB, pod *pods.Pod, env []string, name string, args ...string) {
	tb.Helper()
	if out, err := pod.Command(d.ctx, env, pod.CharmDir, name, args...).CombinedOutput(); err != nil {
		tb.Fatalf("%s: %v\n%s", name, err, out)
	}
}

// dispatch runs one hook on unit, untimed.
func (d *dispatchBench) dispatch(unit, hook string) {
	d.b.Helper()
	pod, err := d.sim.Pod(unit)
	if err != nil {
		d.b.Fatal(err)
	}
	d.exec(d.b, pod, d.env(unit, hook, d.tools), filepath.Join(pod.CharmDir, "dispatch"))
}

// run benchmarks hook on unit: one counted dispatch, then b.N timed ones.
func (d *dispatchBench) run(b *testing.B, unit, hook string) {
	pod, err := d.sim.Pod(unit)
	if err != nil {
		b.Fatal(err)
	}
	d.runCharm(b, unit, hook, pod.CharmDir, nil)
}

// runCharm is run for the charm in charmDir (inside unit's pod), with extra environment.
func (d *dispatchBench) runCharm(b *testing.B, unit, hook, charmDir string, extra []string) {
	pod, err := d.sim.Pod(unit)
	if err != nil {
		b.Fatal(err)
	}
	env := func(tools string) []string {
		e := d.env(unit, hook, tools)
		for i, kv := range e {
			if strings.HasPrefix(kv, "JUJU_CHARM_DIR=") {
				e[i] = "JUJU_CHARM_DIR=" + charmDir
			}
		}
		return append(e, extra...)
	}
	dispatch := filepath.Join(charmDir, "dispatch")
	exec := func(tb testing.TB, env []string) {
		tb.Helper()
		if out, err := pod.Command(d.ctx, env, charmDir, dispatch).CombinedOutput(); err != nil {
			tb.Fatalf("%s: %v\n%s", dispatch, err, out)
		}
	}
	d.n++
	calls := filepath.Join(d.dir, fmt.Sprintf("calls-%d", d.n))
	counting := toolsDir(b, d.dir, fmt.Sprintf("counting-tools-%d", d.n), calls)
	proxy := proxyPebble(b, pod.Dir)
	exec(b, env(counting))
	requests, connects := proxy.close()
	perTool, total := countCalls(b, calls)
	b.Logf("one %s on %s makes %d hook tool calls (%s) and %d Pebble requests over %d connections",
		hook, unit, total, perTool, requests, connects)

	plain := env(d.tools)
	for b.Loop() {
		exec(b, plain)
	}
	b.ReportMetric(float64(total), "tool-calls/op")
	b.ReportMetric(float64(requests), "pebble-requests/op")
	b.ReportMetric(float64(connects), "pebble-connects/op")
}

// runOps benchmarks hook on unit for the minimal ops charm of testdata/opscharm, which reads
// what this charm reads, run by the Python that MM_OPS_PYTHON names (one with ops 2.x).
func (d *dispatchBench) runOps(b *testing.B, unit, hook string) {
	python := os.Getenv("MM_OPS_PYTHON")
	if python == "" {
		b.Skip("skipping: set MM_OPS_PYTHON to a Python with ops 2.x installed")
	}
	charmDir := filepath.Join(d.dir, "opscharm-"+strings.ReplaceAll(unit, "/", "-"))
	if err := os.CopyFS(charmDir, os.DirFS("testdata/opscharm")); err != nil {
		b.Fatal(err)
	}
	// ops reads the charm's metadata (containers, relations) from the charm dir.
	for _, y := range []string{"metadata.yaml", "config.yaml", "actions.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", y))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(charmDir, y), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	d.runCharm(b, unit, hook, charmDir, []string{"MM_OPS_PYTHON=" + python})
}

// startMigration writes, as the leader, what start-migration records once its preflight passed.
func (d *dispatchBench) startMigration(leader string) {
	d.b.Helper()
	model, err := d.sim.Model(d.ctx)
	if err != nil {
		d.b.Fatal(err)
	}
	pod, err := d.sim.Pod(leader)
	if err != nil {
		d.b.Fatal(err)
	}
	rel := fmt.Sprintf("%s:%d", hookstest.PeerEndpoint, model.PeerRelation().ID)
	cmd := pod.Command(d.ctx, d.env(leader, "update-status", d.tools), pod.CharmDir,
		filepath.Join(d.tools, "relation-set"), "-r", rel, "--app", "--file", "-")
	cmd.Stdin = strings.NewReader(`{"migration":"started","migration-changed-at":"2026-01-01T00:00:00Z"}`)
	if out, err := cmd.CombinedOutput(); err != nil {
		d.b.Fatalf("cannot start the migration: %v\n%s", err, out)
	}
}

func (d *dispatchBench) expectStatus(unit, message string) {
	d.b.Helper()
	st, err := d.sim.Status(d.ctx)
	if err != nil {
		d.b.Fatal(err)
	}
	for _, u := range st.Units {
		if u.Name == unit && u.Workload.Message != message {
			d.b.Fatalf("%s is not in the steady state: %s: %s", unit, u.Workload.Name, u.Workload.Message)
		}
	}
}

// standInKafka is the /opt/kafka the pods see: the kafka-clients jar that names the version,
// and an MM2 launcher that only sleeps, so a unit "mirrors" without a JVM on a shared machine.
func standInKafka(b *testing.B, dir string) string {
	b.Helper()
	home := filepath.Join(dir, "kafka")
	for path, content := range map[string]string{
		"bin/connect-mirror-maker.sh":       "#!/bin/sh\nexec sleep 3600\n",
		"libs/kafka-clients-3.9.1.jar":      "",
		"libs/jmx_prometheus_javaagent.jar": "",
	} {
		p := filepath.Join(home, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	return home
}

// buildCharm builds the dispatch binary as `make build` does and packs a
// .charm with the repository's YAMLs, as `make charm` does.
func buildCharm(b *testing.B, dir string) string {
	b.Helper()
	bin := filepath.Join(dir, "dispatch")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("cannot build the dispatch binary: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "mirrormaker-k8s.charm")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	zw := zip.NewWriter(f)
	files := map[string]string{"dispatch": bin}
	// go test runs a package's tests in its folder: the repo root is two up.
	for _, y := range []string{"metadata.yaml", "config.yaml", "actions.yaml"} {
		files[y] = filepath.Join("..", "..", y)
	}
	for name, src := range files {
		data, err := os.ReadFile(src)
		if err != nil {
			b.Fatal(err)
		}
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(0o644)
		if name == "dispatch" {
			h.SetMode(0o755)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			b.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// toolsDir makes a folder of hook tools: symlinks to this test binary, which
// serves them because it links the jujusim package, or, when calls is set,
// scripts that append their name to calls and then serve the tool.
func toolsDir(b *testing.B, dir, name, calls string) string {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	tools := filepath.Join(dir, name)
	if err := os.MkdirAll(tools, 0o755); err != nil {
		b.Fatal(err)
	}
	for _, t := range hookstest.Tools() {
		path := filepath.Join(tools, t)
		if calls == "" {
			err = os.Symlink(exe, path)
		} else {
			script := fmt.Sprintf("#!/bin/bash\necho %s >> %q\nexec -a %s %q \"$@\"\n", t, calls, t, exe)
			err = os.WriteFile(path, []byte(script), 0o755)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	return tools
}

// hookEnv is the environment the simulator gives a hook: Juju's variables,
// the pod's charm dir, the tools first on PATH and the model for them.
func hookEnv(juju map[string]string, charmDir, tools, model string) []string {
	juju["JUJU_CHARM_DIR"] = charmDir
	juju["PATH"] = tools + ":/usr/local/bin:/usr/bin:/bin"
	juju["HOME"] = "/root"
	juju[jujusim.ModelEnv] = model
	env := make([]string, 0, len(juju))
	for k, v := range juju {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

func nonLeader(ctx context.Context, b *testing.B, sim *jujusim.Sim) string {
	b.Helper()
	leader, err := sim.Leader(ctx)
	if err != nil {
		b.Fatal(err)
	}
	units, err := sim.Units(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, u := range units {
		if u != leader {
			return u
		}
	}
	b.Fatalf("no unit but the leader %s", leader)
	return ""
}

// countCalls reads the counting tools' log: calls per tool and in all.
func countCalls(b *testing.B, path string) (string, int) {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	per := map[string]int{}
	lines := strings.Fields(string(data))
	for _, t := range lines {
		per[t]++
	}
	names := make([]string, 0, len(per))
	for t := range per {
		names = append(names, t)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, t := range names {
		parts[i] = fmt.Sprintf("%s %d", t, per[t])
	}
	return strings.Join(parts, ", "), len(lines)
}
