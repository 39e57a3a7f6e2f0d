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
)

// BenchmarkDispatchUpdateStatus is what one update-status costs a unit that
// does not lead, which never asks Kafka: the shipped binary, built here as
// `make build` does, started as Juju starts it, against a real Pebble.
//
// One op is one whole dispatch, as a unit agent would see it: exec of the
// static binary (inside the unit's pod, through nsenter), reading the hook
// context, every hook tool call the reconcile makes (each a process: the
// sandbox's multi-call tool binary, which locks, reads and writes the model
// file), and the Pebble calls over the unit socket (plan, files compared
// with what is there, service state). The unit is related on both sides
// with mm2.properties rendered and pushed, the migration not started, so the
// reconcile is the steady state: it pushes, replans and starts nothing.
// Two sub-benchmarks split that up: one-tool-call is a single hook tool
// (is-leader) started the same way, which the dispatch pays tool-calls/op
// times; nsenter-baseline is entering the pod alone (/bin/true instead of
// dispatch), which a real K8s pod does not pay.
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
	sim, err := jujusim.Open(jujusim.Options{Dir: filepath.Join(dir, "juju"), CharmFile: charmFile, PebbleBin: pebble})
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
	unit := nonLeader(ctx, b, sim)
	pod, err := sim.Pod(unit)
	if err != nil {
		b.Fatal(err)
	}
	model, err := sim.Model(ctx)
	if err != nil {
		b.Fatal(err)
	}
	tools := toolsDir(b, dir, "tools", "")
	env := hookEnv(model.Env(unit, "update-status", nil, ""), pod.CharmDir, tools, sim.ModelPath())
	dispatch := filepath.Join(pod.CharmDir, "dispatch")
	run := func(env []string, name string, args ...string) {
		if out, err := pod.Command(ctx, env, pod.CharmDir, name, args...).CombinedOutput(); err != nil {
			b.Fatalf("%s on %s: %v\n%s", name, unit, err, out)
		}
	}

	// One dispatch, untimed, through tools that count their calls.
	calls := filepath.Join(dir, "calls")
	run(hookEnv(model.Env(unit, "update-status", nil, ""), pod.CharmDir, toolsDir(b, dir, "counting-tools", calls), sim.ModelPath()), dispatch)
	st, err := sim.Status(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, u := range st.Units {
		if u.Name == unit && u.Workload.Message != "ready: run start-migration" {
			b.Fatalf("%s is not in the steady state: %s: %s", unit, u.Workload.Name, u.Workload.Message)
		}
	}
	perTool, total := countCalls(b, calls)
	b.Logf("one update-status on %s makes %d hook tool calls: %s", unit, total, perTool)

	b.Run("update-status", func(b *testing.B) {
		for b.Loop() {
			run(env, dispatch)
		}
		b.ReportMetric(float64(total), "tool-calls/op")
	})
	b.Run("one-tool-call", func(b *testing.B) {
		for b.Loop() {
			run(env, filepath.Join(tools, "is-leader"), "--format=json")
		}
	})
	b.Run("nsenter-baseline", func(b *testing.B) {
		for b.Loop() {
			run(env, "/bin/true")
		}
	})
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
