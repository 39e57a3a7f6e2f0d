package workload

import (
	"fmt"
	"maps"
	"time"

	"gopkg.in/yaml.v3"
)

// Check timing: MM2 pauses for rebalances and long GCs; three misses 30 s
// apart (90 s) is a dead worker, not a slow one.
const (
	checkPeriod    = "30s"
	checkTimeout   = "10s"
	checkThreshold = 3
)

// killDelay is how long Pebble waits after SIGTERM before it SIGKILLs MM2. Pebble's default,
// 5 s, is about what Connect gives its tasks to stop (task.shutdown.graceful.timeout.ms) before
// the worker commits their offsets and leaves its group: killed within it, MM2 restarts from
// its last flushed offsets and copies again what it had copied since, duplicates on the target.
const killDelay = "30s"

// inertPeriod is how seldom the stand-in for a removed check runs `true`.
const inertPeriod = "1h"

// layer is the subset of a Pebble layer (and of the combined plan) that this
// package writes and compares. Fields we do not set are ignored when the plan
// is parsed, so Pebble's defaults never look like a change.
//
// What we write must parse on the oldest Pebble a supported Juju ships
// (v1.16.0 in Juju 3.6.0), which rejects a whole layer with a field it does not
// know: so no check `startup` (Pebble 1.19) is ever written. It is still read,
// to replace a check an earlier charm revision disabled.
//
// Log targets, labels included, are known to v1.16.0:
// TestRealPebbleLogTargets adds them to that daemon.
type layer struct {
	Summary    string                     `yaml:"summary,omitempty"`
	Services   map[string]*layerService   `yaml:"services,omitempty"`
	Checks     map[string]*layerCheck     `yaml:"checks,omitempty"`
	LogTargets map[string]*layerLogTarget `yaml:"log-targets,omitempty"`
}

// layerSummary is our layer's summary.
const layerSummary = "mirrormaker-k8s: the MirrorMaker 2 workload"

type layerService struct {
	Override       string            `yaml:"override,omitempty"`
	Summary        string            `yaml:"summary,omitempty"`
	Command        string            `yaml:"command,omitempty"`
	Startup        string            `yaml:"startup,omitempty"`
	User           string            `yaml:"user,omitempty"`
	Group          string            `yaml:"group,omitempty"`
	Environment    map[string]string `yaml:"environment,omitempty"`
	OnFailure      string            `yaml:"on-failure,omitempty"`
	OnCheckFailure map[string]string `yaml:"on-check-failure,omitempty"`
	KillDelay      string            `yaml:"kill-delay,omitempty"`
}

type layerCheck struct {
	Override  string     `yaml:"override,omitempty"`
	Level     string     `yaml:"level,omitempty"`
	Startup   string     `yaml:"startup,omitempty"` // read only: see layer
	Period    string     `yaml:"period,omitempty"`
	Timeout   string     `yaml:"timeout,omitempty"`
	Threshold int        `yaml:"threshold,omitempty"`
	HTTP      *httpCheck `yaml:"http,omitempty"`
	Exec      *execCheck `yaml:"exec,omitempty"`
}

type httpCheck struct {
	URL string `yaml:"url,omitempty"`
}

type execCheck struct {
	Command string `yaml:"command,omitempty"`
}

// desiredLayer renders the layer for s. current is the check of that name in
// the current plan (nil if none).
//
// The check has no level on purpose. Juju points the container's Kubernetes
// liveness and readiness probes at Pebble's /v1/health?level=alive|ready, and
// a failing alive check there restarts the whole container: the pushed files
// are lost and MM2 stops until the next pebble-ready. A check without a level
// counts for neither probe; it only restarts MM2 through on-check-failure.
//
// The check runs only while MM2 should run. A layer added with Combine cannot
// delete a check, so a check no longer wanted is replaced by an inert one that
// runs `true` hourly and that no service reacts to.
func desiredLayer(s Service, running bool, current *layerCheck) *layer {
	startup := "disabled"
	if running {
		startup = "enabled"
	}
	svc := &layerService{
		Override:    "replace",
		Summary:     "MirrorMaker 2 replicating the source Kafka cluster into the target",
		Command:     s.Command,
		Startup:     startup,
		User:        s.User,
		Group:       s.Group,
		Environment: maps.Clone(s.Environment),
		OnFailure:   "restart",
		KillDelay:   killDelay,
	}
	l := &layer{
		Summary:  layerSummary,
		Services: map[string]*layerService{ServiceName: svc},
	}
	switch {
	case s.CheckURL != "" && running:
		svc.OnCheckFailure = map[string]string{CheckName: "restart"}
		l.Checks = map[string]*layerCheck{CheckName: {
			Override:  "replace",
			Period:    checkPeriod,
			Timeout:   checkTimeout,
			Threshold: checkThreshold,
			HTTP:      &httpCheck{URL: s.CheckURL},
		}}
	case current != nil:
		l.Checks = map[string]*layerCheck{CheckName: inertCheck()}
	}
	return l
}

// inertCheck stands in for a removed check: it cannot fail, has no level and
// no service reacts to it.
func inertCheck() *layerCheck {
	return &layerCheck{
		Override: "replace",
		Period:   inertPeriod,
		Exec:     &execCheck{Command: "true"},
	}
}

// parsePlan reads the combined plan as Pebble prints it.
func parsePlan(data []byte) (*layer, error) {
	var p layer
	if err := yaml.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("cannot parse pebble plan: %w", err)
	}
	return &p, nil
}

// layerDiffers reports whether the current plan lacks what want sets: our
// service, or our check, differs or is missing.
func layerDiffers(current, want *layer) (service, check bool) {
	service = !sameService(current.Services[ServiceName], want.Services[ServiceName])
	check = !sameCheck(current.Checks[CheckName], want.Checks[CheckName])
	return service, check
}

func sameService(a, b *layerService) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Override == b.Override &&
		a.Summary == b.Summary &&
		a.Command == b.Command &&
		a.Startup == b.Startup &&
		a.User == b.User &&
		a.Group == b.Group &&
		maps.Equal(a.Environment, b.Environment) &&
		a.OnFailure == b.OnFailure &&
		maps.Equal(a.OnCheckFailure, b.OnCheckFailure)
}

func sameCheck(a, b *layerCheck) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Override == b.Override &&
		a.Level == b.Level &&
		checkStartup(a.Startup) == checkStartup(b.Startup) &&
		sameDuration(a.Period, b.Period) &&
		sameDuration(a.Timeout, b.Timeout) &&
		checkThresholdOf(a.Threshold) == checkThresholdOf(b.Threshold) &&
		*orZero(a.HTTP) == *orZero(b.HTTP) &&
		*orZero(a.Exec) == *orZero(b.Exec)
}

// checkStartup and checkThresholdOf apply Pebble's defaults, so an explicit
// default and an omitted field compare equal.
func checkStartup(s string) string {
	if s == "" {
		return "enabled"
	}
	return s
}

func checkThresholdOf(n int) int {
	if n == 0 {
		return checkThreshold
	}
	return n
}

// sameDuration compares durations by value ("30s" == "30.0s"); an unset
// duration equals only an unset one, as Pebble prints only what was set.
func sameDuration(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	da, errA := time.ParseDuration(a)
	db, errB := time.ParseDuration(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return da == db
}

func orZero[T any](p *T) *T {
	if p == nil {
		return new(T)
	}
	return p
}
