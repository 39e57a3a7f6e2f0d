package workload

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// LogTargetPrefix starts the name of every Pebble log target this package
// writes. Apply touches no other target: one whose name lacks it belongs to
// someone else (another charm library, an operator's layer) and is left alone.
const LogTargetPrefix = "mm2-loki-"

// lokiTarget is the only log target type written: the charm forwards to Loki
// (the loki_push_api relation).
const lokiTarget = "loki"

// disableAll is the services list of a log target that forwards nothing.
// Pebble walks a target's services list backwards and the last match wins,
// so "-all" alone matches every service and forwards none; Pebble keeps the
// target (and its idle client) but pulls no service's logs into it. This is
// what ops' LogForwarder writes for an endpoint that went away.
const disableAll = "-all"

// LogTarget is one Loki endpoint Pebble forwards service logs to.
type LogTarget struct {
	// Name is the target's name in the plan; it must start with
	// LogTargetPrefix, so a later Apply knows the target is ours.
	Name string
	// Location is the Loki push URL, e.g.
	// "http://loki-0.loki-endpoints:3100/loki/api/v1/push".
	Location string
	// Services are the services whose logs go there, in Pebble's syntax
	// ("all", a name, or either with "-" to exclude; the last match wins).
	// Empty means "all", as ops' LogForwarder does. A named service must be
	// in the plan, or Pebble rejects the layer.
	Services []string
	// Labels are added to every log line (Juju topology). Pebble expands
	// $VAR in a value from the service's environment; names starting with
	// "pebble_" are Pebble's own and rejected.
	Labels map[string]string
}

type layerLogTarget struct {
	Override string            `yaml:"override,omitempty"`
	Type     string            `yaml:"type,omitempty"`
	Location string            `yaml:"location,omitempty"`
	Services []string          `yaml:"services"`
	Labels   map[string]string `yaml:"labels,omitempty"`
}

// validateLogTargets rejects what Pebble would reject with a less helpful
// message (or, for a name without our prefix, what a later Apply could no
// longer tell from someone else's target).
func validateLogTargets(targets []LogTarget) error {
	seen := map[string]bool{}
	for _, t := range targets {
		switch {
		case !strings.HasPrefix(t.Name, LogTargetPrefix) || t.Name == LogTargetPrefix:
			return fmt.Errorf("cannot forward logs to %q: a log target's name must start with %q", t.Name, LogTargetPrefix)
		case seen[t.Name]:
			return fmt.Errorf("cannot forward logs to %q: the log target is listed twice", t.Name)
		case t.Location == "":
			return fmt.Errorf("cannot forward logs to %q: no location", t.Name)
		}
		seen[t.Name] = true
		for label := range t.Labels {
			if strings.HasPrefix(label, "pebble_") {
				return fmt.Errorf("cannot forward logs to %q: label %q uses Pebble's reserved prefix pebble_", t.Name, label)
			}
		}
	}
	return nil
}

// desiredLogTargets renders the log targets to write given the plan's
// current ones: every wanted target, replaced whole; and every target of
// ours (by LogTargetPrefix) that is no longer wanted, disabled. A layer added
// with Combine cannot delete a target, so a dropped one is replaced by a
// target at the same location forwarding no service (see disableAll).
// Targets without our prefix are never written. nil wanted means the caller
// leaves log targets alone: nothing is written.
func desiredLogTargets(wanted []LogTarget, current map[string]*layerLogTarget) map[string]*layerLogTarget {
	if wanted == nil {
		return nil
	}
	out := make(map[string]*layerLogTarget, len(wanted))
	for _, t := range wanted {
		services := slices.Clone(t.Services)
		if len(services) == 0 {
			services = []string{"all"}
		}
		out[t.Name] = &layerLogTarget{
			Override: "replace",
			Type:     lokiTarget,
			Location: t.Location,
			Services: services,
			Labels:   maps.Clone(t.Labels),
		}
	}
	for name, t := range current {
		if _, ok := out[name]; ok || t == nil || !strings.HasPrefix(name, LogTargetPrefix) {
			continue
		}
		typ := t.Type
		if typ == "" {
			typ = lokiTarget
		}
		out[name] = &layerLogTarget{
			Override: "replace",
			Type:     typ,
			Location: t.Location, // Pebble requires one, even of a target that forwards nothing
			Services: []string{disableAll},
		}
	}
	return out
}

// logTargetsDiffer reports whether any target in want is missing from the
// plan or differs from it.
func logTargetsDiffer(current, want map[string]*layerLogTarget) bool {
	for name, t := range want {
		if !sameLogTarget(current[name], t) {
			return true
		}
	}
	return false
}

// sameLogTarget compares targets by value; the services list in order, as
// its order is its meaning.
func sameLogTarget(a, b *layerLogTarget) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Override == b.Override &&
		a.Type == b.Type &&
		a.Location == b.Location &&
		slices.Equal(a.Services, b.Services) &&
		maps.Equal(a.Labels, b.Labels)
}
