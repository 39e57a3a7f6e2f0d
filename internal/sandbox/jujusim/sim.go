package jujusim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"mirrormaker-k8s/hooks/hookstest"
	"mirrormaker-k8s/internal/sandbox/pods"
)

// defaultApp is the application name the simulator deploys the charm as.
const defaultApp = "mirrormaker-k8s"

// Options configure a Sim; only Dir is required.
type Options struct {
	// Dir is the state dir: model.json, sim.json, tools/, units/<unit>/.
	Dir string
	// App is the application name; defaultApp when empty.
	App string
	// CharmFile is the .charm to deploy; DefaultCharmFile() when empty.
	CharmFile string
	// PebbleBin is the pebble daemon; DefaultPebbleBin() when empty.
	PebbleBin string
	// ToolBinary is the multi-call hook tool binary; the running executable
	// when empty, which serves as one because it links this package.
	ToolBinary string
	// KafkaHome is bound over /opt/kafka in every pod (KafkaDist.Home).
	KafkaHome string
	// HookTimeout bounds each hook and action; 5 minutes when zero.
	HookTimeout time.Duration
	// OwnPods makes the pods this process's (pods.Options.Owned): a test
	// killed by its timeout leaves pods that the next run reaps. The CLI's
	// pods outlive each call and are not owned.
	OwnPods bool
}

// simState is what the simulator keeps besides the model, in sim.json, so
// that the next CLI call finds it.
type simState struct {
	App        string            `json:"app"`
	CharmFile  string            `json:"charm-file"`
	PebbleBin  string            `json:"pebble-bin"`
	ToolBinary string            `json:"tool-binary"`
	KafkaHome  string            `json:"kafka-home"`
	NextUnit   int               `json:"next-unit"`
	Restarts   map[string]int    `json:"restarts,omitempty"` // unit -> workload container restarts
	Subnet     string            `json:"subnet,omitempty"`   // units are <Subnet>.11, .12, ...
	Errors     map[string]string `json:"errors,omitempty"`   // unit -> failed hook
}

// Sim simulates Juju for one application of the charm: it holds the model,
// runs each unit in a pod and fires the real charm binary's hooks in Juju's
// order, so the binary cannot tell it from Juju. Methods are safe for
// concurrent use; hooks of one unit never overlap.
type Sim struct {
	dir     string
	store   modelStore
	timeout time.Duration
	charm   *charmMeta
	mu      sync.Mutex // guards state, pods, updates, kubelet
	state   simState
	pods    map[string]*pods.Pod
	updates *ticking // nil unless StartUpdateStatus
	kubelet *kubelet // nil unless StartKubelet
	ownPods bool
}

// Open opens the simulator in opts.Dir, resuming the state an earlier
// process left there (pods keep running between CLI calls), or preparing a
// fresh one for Deploy.
func Open(opts Options) (*Sim, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("cannot resolve sim dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create sim dir: %w", err)
	}
	s := &Sim{dir: dir, store: modelStore{path: filepath.Join(dir, "model.json")}, pods: map[string]*pods.Pod{}, timeout: opts.HookTimeout,
		ownPods: opts.OwnPods}
	if s.timeout == 0 {
		s.timeout = 5 * time.Minute
	}
	if data, err := os.ReadFile(s.statePath()); err == nil {
		if err := json.Unmarshal(data, &s.state); err != nil {
			return nil, fmt.Errorf("cannot parse sim state: %w", err)
		}
	} else {
		s.state = simState{App: opts.App, CharmFile: opts.CharmFile, PebbleBin: opts.PebbleBin, ToolBinary: opts.ToolBinary, KafkaHome: opts.KafkaHome}
		if s.state.App == "" {
			s.state.App = defaultApp
		}
		if s.state.CharmFile == "" {
			s.state.CharmFile = DefaultCharmFile()
		}
		if s.state.PebbleBin == "" {
			s.state.PebbleBin = DefaultPebbleBin()
		}
		if s.state.ToolBinary == "" {
			if s.state.ToolBinary, err = os.Executable(); err != nil {
				return nil, fmt.Errorf("cannot find tool binary: %w", err)
			}
		}
	}
	if s.charm, err = readCharm(s.state.CharmFile); err != nil {
		return nil, err
	}
	return s, nil
}

// ModelPath is the model file hook tools read ($SANDBOX_MODEL).
func (s *Sim) ModelPath() string { return s.store.path }

// Model returns a snapshot of the model, for assertions and status.
func (s *Sim) Model(ctx context.Context) (*hookstest.Model, error) { return s.store.read(ctx) }

// UnitDir is the folder of unit's pod, holding hooks.log and pebble.log.
func (s *Sim) UnitDir(unit string) string {
	return filepath.Join(s.dir, "units", strings.ReplaceAll(unit, "/", "-"))
}

func (s *Sim) statePath() string { return filepath.Join(s.dir, "sim.json") }
func (s *Sim) toolsDir() string  { return filepath.Join(s.dir, "tools") }

func (s *Sim) saveState() error {
	s.mu.Lock()
	data, err := json.MarshalIndent(s.state, "", "  ")
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("cannot encode sim state: %w", err)
	}
	if err := os.WriteFile(s.statePath(), data, 0o600); err != nil {
		return fmt.Errorf("cannot save sim state: %w", err)
	}
	return nil
}

// Deploy deploys the charm as n units with config.yaml's defaults
// overridden by config, and runs each unit's setup hooks: install,
// <peer>-relation-created, leader-elected (leader only), config-changed,
// start, <container>-pebble-ready; then the peers meet:
// <peer>-relation-joined and -changed on every unit for every other unit.
func (s *Sim) Deploy(ctx context.Context, n int, config map[string]any) error {
	if n < 1 {
		return errors.New("cannot deploy: need at least one unit")
	}
	if exists(s.store.path) {
		return fmt.Errorf("cannot deploy: %s is already deployed in %s", s.state.App, s.dir)
	}
	m := hookstest.NewModel(s.state.App, n)
	s.mu.Lock()
	s.state.Subnet = randomSubnet()
	for i, u := range m.Units {
		m.Addresses[u] = s.unitAddress(i)
	}
	s.mu.Unlock()
	m.Config = s.charm.defaults()
	for k, v := range config {
		if _, ok := s.charm.Config[k]; !ok {
			return fmt.Errorf("cannot deploy: unknown config option %q", k)
		}
		m.Config[k] = v
	}
	if err := writeToolsDir(s.toolsDir(), s.state.ToolBinary); err != nil {
		return err
	}
	if err := s.store.save(m); err != nil {
		return err
	}
	s.mu.Lock()
	s.state.NextUnit = n
	s.mu.Unlock()
	if err := s.saveState(); err != nil {
		return err
	}
	if err := forEach(m.Units, func(u string) error { return s.startPod(ctx, u) }); err != nil {
		return err
	}
	if err := forEach(m.Units, func(u string) error { return s.setup(ctx, u, u == m.Leader) }); err != nil {
		return err
	}
	return s.peersMeet(ctx, m.Units, m.Units)
}

// randomSubnet picks a /24 of loopback for one model's units, as each pod on
// K8s has its own IP. Units bind MM2's REST listener and JMX exporter on
// their address at fixed ports, so simulators running at once (two test
// packages, two people on one machine) must not share addresses: with the
// same 127.0.0.11 each side's MM2 fails to bind while the other's runs.
// 127.0.0.0/24 is left to the brokers.
func randomSubnet() string {
	return fmt.Sprintf("127.%d.%d", 1+rand.IntN(254), rand.IntN(256))
}

// unitAddress is the address of the model's n-th unit (from 0), the one
// network-get returns.
func (s *Sim) unitAddress(n int) string {
	subnet := s.state.Subnet
	if subnet == "" {
		subnet = "127.0.0" // a model deployed before subnets were chosen
	}
	return fmt.Sprintf("%s.%d", subnet, 11+n)
}

// setup runs a new unit's setup hooks, in Juju's order.
func (s *Sim) setup(ctx context.Context, unit string, leader bool) error {
	peer, err := s.peerID(ctx)
	if err != nil {
		return err
	}
	events := []event{{hook: "install"}, {hook: s.charm.Peer + "-relation-created", relID: peer}}
	if leader {
		events = append(events, event{hook: "leader-elected"})
	}
	events = append(events, event{hook: "config-changed"}, event{hook: "start"},
		event{hook: s.charm.Container + "-pebble-ready"})
	for _, ev := range events {
		if err := s.fire(ctx, unit, ev); err != nil {
			return err
		}
	}
	return nil
}

// peersMeet fires <peer>-relation-joined and -changed on every unit of
// these about every other unit of those (and the reverse, for new units).
func (s *Sim) peersMeet(ctx context.Context, these, those []string) error {
	peer, err := s.peerID(ctx)
	if err != nil {
		return err
	}
	all := unique(append(append([]string{}, these...), those...))
	return forEach(all, func(u string) error {
		others := those
		if !slices.Contains(these, u) {
			others = these
		}
		for _, o := range others {
			if o == u {
				continue
			}
			for _, h := range []string{"-relation-joined", "-relation-changed"} {
				if err := s.fire(ctx, u, event{hook: s.charm.Peer + h, relID: peer, remoteUnit: o}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (s *Sim) peerID(ctx context.Context) (int, error) {
	m, err := s.store.read(ctx)
	if err != nil {
		return 0, err
	}
	if r := peerRelation(m, s.charm.Peer); r != nil {
		return r.ID, nil
	}
	return 0, fmt.Errorf("cannot find peer relation %q", s.charm.Peer)
}

// startPod unpacks the charm into a new pod for unit and starts it.
func (s *Sim) startPod(ctx context.Context, unit string) error {
	dir := s.UnitDir(unit)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create unit dir: %w", err)
	}
	if err := unpackCharm(s.state.CharmFile, filepath.Join(dir, "charm")); err != nil {
		return err
	}
	return s.launchPod(ctx, unit)
}

// launchPod starts unit's workload container: its Pebble, which starts with
// the rock's own layer.
func (s *Sim) launchPod(ctx context.Context, unit string) error {
	pod, err := pods.Start(ctx, s.podOptions(unit))
	if err != nil {
		return fmt.Errorf("cannot start %s: %w", unit, err)
	}
	s.mu.Lock()
	s.pods[unit] = pod
	s.mu.Unlock()
	return nil
}

// podOptions are unit's pod: the unit's folder, the model's Pebble and
// Kafka, and the rock's own layer.
func (s *Sim) podOptions(unit string) pods.Options {
	return pods.Options{Dir: s.UnitDir(unit), PebbleBin: s.state.PebbleBin, KafkaHome: s.state.KafkaHome, BaseLayer: rockLayer,
		Owned: s.ownPods}
}

// Pod returns unit's pod, attaching to one a previous process started.
func (s *Sim) Pod(unit string) (*pods.Pod, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.pods[unit]; ok {
		return p, nil
	}
	p, err := pods.Attach(s.UnitDir(unit))
	if err != nil {
		return nil, err
	}
	s.pods[unit] = p
	return p, nil
}

// Close stops the update-status timer and the kubelet and tears down every
// pod (services first, then Pebble), reporting any process that had to be
// killed.
func (s *Sim) Close() error {
	s.StopUpdateStatus()
	s.StopKubelet()
	units, _ := os.ReadDir(filepath.Join(s.dir, "units"))
	var errs []error
	for _, u := range units {
		pod, err := pods.Attach(filepath.Join(s.dir, "units", u.Name()))
		if err != nil {
			continue // never started, or already stopped
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := pod.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
		cancel()
	}
	s.mu.Lock()
	s.pods = map[string]*pods.Pod{}
	s.mu.Unlock()
	return errors.Join(errs...)
}

// forEach runs fn for every item concurrently, as Juju runs the hooks of
// different units at once, and joins the errors.
func forEach(items []string, fn func(string) error) error {
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(it)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func unique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// ticking runs a function every interval in its own goroutine, as Juju's
// update-status timer and Kubernetes' probes do, until stopped.
type ticking struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func tick(interval time.Duration, fn func(context.Context)) *ticking {
	ctx, cancel := context.WithCancel(context.Background())
	t := &ticking{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		timer := time.NewTicker(interval)
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
				fn(ctx)
			}
		}
	}()
	return t
}

// stop cancels a running round and waits for it to end; a nil t is stopped.
func (t *ticking) stop() {
	if t != nil {
		t.cancel()
		<-t.done
	}
}
