package jujusim

import (
	"context"
	_ "embed"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"mirrormaker-k8s/internal/sandbox/pods"
)

// rockLayer is the Charmed Kafka rock's own Pebble layer, which every pod's
// Pebble starts with, as Juju's workload containers do.
//
//go:embed assets/rock-pebble-layer.yaml
var rockLayer []byte

// Probe is a Kubernetes HTTP probe's timing.
type Probe struct {
	InitialDelay, Period, Timeout time.Duration
	FailureThreshold              int
}

// JujuLivenessProbe is how Juju 3.6 probes a workload container: GET
// /v1/health?level=alive on the container's Pebble, every 5 s after 30 s, 1 s
// timeout; 3 failures in a row and the kubelet restarts the container.
var JujuLivenessProbe = Probe{InitialDelay: 30 * time.Second, Period: 5 * time.Second, Timeout: time.Second, FailureThreshold: 3}

// kubelet is what the sandbox has of Kubernetes' node agent: it probes every
// pod's Pebble and restarts a container that fails its liveness probe.
type kubelet struct {
	probe    Probe
	loop     *ticking
	started  map[string]time.Time // unit -> when its container (re)started
	failures map[string]int       // unit -> consecutive failed probes
	rounds   atomic.Int64         // probe rounds done, for tests to wait on
}

// StartKubelet probes every unit's workload container as the kubelet does
// with Juju's liveness probe, until StopKubelet or Close. A container that
// fails it is restarted as Kubernetes would: every process in it dies, what
// the charm pushed into the container's filesystem is gone, Pebble starts
// again (--hold, with its state dir, which lives on the pod's shared volume)
// and the unit gets <container>-pebble-ready. AllRestarts counts them.
func (s *Sim) StartKubelet(probe Probe) {
	s.StopKubelet()
	k := &kubelet{probe: probe, started: map[string]time.Time{}, failures: map[string]int{}}
	k.loop = tick(probe.Period, func(ctx context.Context) {
		s.probeAll(ctx, k)
		k.rounds.Add(1)
	})
	s.mu.Lock()
	s.kubelet = k
	s.mu.Unlock()
}

// StopKubelet stops probing, waiting for a restart in progress to finish.
func (s *Sim) StopKubelet() {
	s.mu.Lock()
	k := s.kubelet
	s.kubelet = nil
	s.mu.Unlock()
	if k != nil {
		k.loop.stop()
	}
}

// KubeletRounds is how many rounds of probes the kubelet has made.
func (s *Sim) KubeletRounds() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kubelet == nil {
		return 0
	}
	return s.kubelet.rounds.Load()
}

// AllRestarts reports the workload container restarts of every unit that
// had any, removed units included.
func (s *Sim) AllRestarts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.state.Restarts)
}

// restarts reports how many times unit's workload container was restarted
// by a failed liveness probe.
func (s *Sim) restarts(unit string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.Restarts[unit]
}

func (s *Sim) probeAll(ctx context.Context, k *kubelet) {
	units, err := s.Units(ctx)
	if err != nil {
		return
	}
	now := time.Now()
	for _, unit := range units {
		if _, ok := k.started[unit]; !ok {
			k.started[unit] = now
		}
		if now.Sub(k.started[unit]) < k.probe.InitialDelay {
			continue
		}
		pod, err := s.Pod(unit)
		if err != nil {
			continue // removed, or not started yet
		}
		failure := pod.ProbeAlive(ctx, k.probe.Timeout)
		if failure == nil {
			k.failures[unit] = 0
			continue
		}
		k.failures[unit]++
		s.logUnit(unit, fmt.Sprintf("kubelet: liveness probe failed (%d/%d): %s", k.failures[unit], k.probe.FailureThreshold, failure))
		if k.failures[unit] < k.probe.FailureThreshold {
			continue
		}
		k.failures[unit] = 0
		k.started[unit] = time.Now()
		s.mu.Lock()
		if s.state.Restarts == nil {
			s.state.Restarts = map[string]int{}
		}
		s.state.Restarts[unit]++
		s.mu.Unlock()
		if err := s.RestartContainer(ctx, unit); err != nil && ctx.Err() == nil {
			s.logUnit(unit, fmt.Sprintf("kubelet: %v", err))
		}
		k.started[unit] = time.Now()
	}
}

// RestartContainer restarts unit's workload container as Kubernetes does,
// for a failed liveness probe or a killed process (an OOM kill): between
// hooks (it holds the unit's hook lock while the container is down), then
// <container>-pebble-ready. Only the kubelet's restarts count in AllRestarts.
func (s *Sim) RestartContainer(ctx context.Context, unit string) error {
	// Once begun, a restart runs to its end (pebble-ready included), even
	// when the kubelet is being stopped.
	ctx = context.WithoutCancel(ctx)
	s.logUnit(unit, "kubernetes: restarting the workload container")
	lock, err := lockFile(ctx, filepath.Join(s.UnitDir(unit), "hook.lock"))
	if err != nil {
		return fmt.Errorf("cannot restart %s: %w", unit, err)
	}
	old, err := s.Pod(unit)
	if err != nil {
		old = nil // nothing runs: start the container afresh
	}
	s.mu.Lock()
	delete(s.pods, unit)
	s.mu.Unlock()
	pod, err := pods.Restart(ctx, old, s.podOptions(unit))
	lock.unlock()
	if err != nil {
		return fmt.Errorf("cannot restart %s: %w", unit, err)
	}
	s.mu.Lock()
	s.pods[unit] = pod
	s.mu.Unlock()
	if err := s.saveState(); err != nil {
		return err
	}
	return s.fire(ctx, unit, event{hook: s.charm.Container + "-pebble-ready"})
}

// logUnit appends a line to unit's hooks.log, where a user of the sandbox
// looks when a unit misbehaves.
func (s *Sim) logUnit(unit, line string) {
	f, err := os.OpenFile(filepath.Join(s.UnitDir(unit), "hooks.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s\n", time.Now().UTC().Format(time.RFC3339), line)
}
