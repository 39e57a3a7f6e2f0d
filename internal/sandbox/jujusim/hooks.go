package jujusim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"mirrormaker-k8s/hooks/hookstest"
	"mirrormaker-k8s/internal/sandbox/pods"
)

// event is one hook or action to dispatch on a unit.
type event struct {
	hook       string // hook name, empty for actions
	action     string // action name, for actions
	relID      int    // relation id, for relation hooks only
	remoteUnit string
	departing  string
	secretURI  string
	depth      int // how many relation-changed cascades led here
}

// maxCascade bounds relation-changed cascades: charms that keep rewriting
// their databags would otherwise never settle.
const maxCascade = 8

// hookError is a hook or action that exited non-zero: Juju would put the
// unit in error. Tail holds the end of that hook's output.
type hookError struct {
	Unit     string
	Hook     string
	ExitCode int
	Tail     string
}

// Error names the unit and hook and quotes the hook's last output lines,
// which is what one needs to see why it failed.
func (e *hookError) Error() string {
	return fmt.Sprintf("hook %q failed on %s (exit %d):\n%s", e.Hook, e.Unit, e.ExitCode, e.Tail)
}

// fire runs ev on unit, then, as Juju does when a hook changed relation
// data, <peer>-relation-changed on the other units when the unit changed its
// own peer databag, or as leader the application's.
func (s *Sim) fire(ctx context.Context, unit string, ev event) error {
	before, err := s.runHook(ctx, unit, ev)
	if err != nil {
		return err
	}
	return s.propagate(ctx, unit, before, ev.depth)
}

// propagate fires <peer>-relation-changed on every other unit when unit's
// hook changed unit's peer databag or (as leader) the app's. A unit-bag
// change names the unit as JUJU_REMOTE_UNIT; an app-bag change names none.
func (s *Sim) propagate(ctx context.Context, unit string, before *hookstest.Model, depth int) error {
	after, err := s.store.read(ctx)
	if err != nil {
		return err
	}
	bp, ap := peerRelation(before, s.charm.Peer), peerRelation(after, s.charm.Peer)
	if bp == nil || ap == nil {
		return nil
	}
	unitChanged := !maps.Equal(bp.Data[unit], ap.Data[unit])
	appChanged := before.Leader == unit && !maps.Equal(bp.Data[after.App], ap.Data[after.App])
	if !unitChanged && !appChanged {
		return nil
	}
	if depth >= maxCascade {
		return fmt.Errorf("cannot settle %s: %s-relation-changed cascaded %d times", unit, s.charm.Peer, depth)
	}
	remote := ""
	if unitChanged {
		remote = unit
	}
	var others []string
	for _, u := range after.Units {
		if u != unit {
			others = append(others, u)
		}
	}
	return forEach(others, func(o string) error {
		return s.fire(ctx, o, event{hook: s.charm.Peer + "-relation-changed", relID: ap.ID, remoteUnit: remote, depth: depth + 1})
	})
}

func peerRelation(m *hookstest.Model, endpoint string) *hookstest.Relation {
	for _, r := range m.Relations {
		if r.Endpoint == endpoint {
			return r
		}
	}
	return nil
}

// runHook runs ev on unit: one hook at a time per unit, in the unit's pod,
// with a clean Juju-like environment; output goes to the unit's hooks.log.
// It returns the model as the hook found it.
func (s *Sim) runHook(ctx context.Context, unit string, ev event) (*hookstest.Model, error) {
	name := ev.hook
	if ev.action != "" {
		name = "action " + ev.action
	}
	pod, err := s.Pod(unit)
	if err != nil {
		return nil, fmt.Errorf("cannot run %s on %s: %w", name, unit, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	lock, err := lockFile(ctx, filepath.Join(s.UnitDir(unit), "hook.lock"))
	if err != nil {
		return nil, fmt.Errorf("cannot run %s on %s: %w", name, unit, err)
	}
	defer lock.unlock()

	m, err := s.store.read(ctx)
	if err != nil {
		return nil, err
	}
	env := s.hookEnv(m, unit, pod, ev)
	logf, err := os.OpenFile(filepath.Join(s.UnitDir(unit), "hooks.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open hooks log: %w", err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== %s %s\n", time.Now().Format("15:04:05.000"), name)
	var out bytes.Buffer
	cmd := pod.Command(ctx, env, pod.CharmDir, filepath.Join(pod.CharmDir, "dispatch"))
	w := io.MultiWriter(logf, &out)
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Run()
	code := 0
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return nil, fmt.Errorf("cannot run %s on %s: %w", name, unit, err)
		}
		code = exit.ExitCode()
		fmt.Fprintf(logf, "=== %s exited %d\n", name, code)
		if ctx.Err() != nil {
			fmt.Fprintf(logf, "=== %s timed out after %s\n", name, s.timeout)
		}
	}
	if ev.action != "" {
		if code != 0 {
			return nil, &hookError{Unit: unit, Hook: name, ExitCode: code, Tail: tailLines(out.String(), 30)}
		}
		return m, nil
	}
	return m, s.recordHook(unit, ev.hook, code, out.String())
}

// recordHook remembers a failed hook for status (agent "error") and turns
// it into a hookError; a later successful hook clears it, as `juju resolve`
// plus a retry would.
func (s *Sim) recordHook(unit, hook string, code int, out string) error {
	s.mu.Lock()
	if s.state.Errors == nil {
		s.state.Errors = map[string]string{}
	}
	_, had := s.state.Errors[unit]
	if code == 0 {
		delete(s.state.Errors, unit)
	} else {
		s.state.Errors[unit] = hook
	}
	s.mu.Unlock()
	if code != 0 || had {
		if err := s.saveState(); err != nil {
			return err
		}
	}
	if code != 0 {
		return &hookError{Unit: unit, Hook: hook, ExitCode: code, Tail: tailLines(out, 30)}
	}
	return nil
}

// hookEnv is exactly the environment Juju gives a hook (juju/juju
// worker/uniter/runner/context, HookVars; values from the model), with the pod's charm dir, the tools first on PATH and
// SANDBOX_MODEL for them, and nothing from the simulator's own environment.
func (s *Sim) hookEnv(m *hookstest.Model, unit string, pod *pods.Pod, ev event) []string {
	var env map[string]string
	switch {
	case ev.action != "":
		env = m.ActionEnv(unit, ev.action)
	case ev.secretURI != "":
		env = m.SecretEnv(unit, ev.hook, ev.secretURI)
	case strings.Contains(ev.hook, "-relation-"):
		env = m.Env(unit, ev.hook, m.Relation(ev.relID), ev.remoteUnit)
		if ev.departing != "" {
			env["JUJU_DEPARTING_UNIT"] = ev.departing
		}
	default:
		env = m.Env(unit, ev.hook, nil, "")
	}
	env["JUJU_CHARM_DIR"] = pod.CharmDir
	env["PATH"] = s.toolsDir() + ":/usr/local/bin:/usr/bin:/bin"
	env["HOME"] = "/root"
	env[ModelEnv] = s.store.path
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
