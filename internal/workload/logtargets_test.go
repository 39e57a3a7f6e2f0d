package workload

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// combineLogTargets combines targets into the plan as Pebble does (replace
// or merge), and validates the result as Pebble's plan validation does.
func (f *fakePebble) combineLogTargets(targets map[string]*layerLogTarget) error {
	combined := maps.Clone(f.plan.LogTargets)
	if combined == nil {
		combined = map[string]*layerLogTarget{}
	}
	for name, t := range targets {
		old, ok := combined[name]
		switch {
		case t.Override == "merge" && ok:
			merged := *old
			merged.Services = append(slices.Clone(old.Services), t.Services...)
			merged.Labels = maps.Clone(old.Labels)
			if merged.Labels == nil && len(t.Labels) > 0 {
				merged.Labels = map[string]string{}
			}
			maps.Copy(merged.Labels, t.Labels)
			if t.Type != "" {
				merged.Type = t.Type
			}
			if t.Location != "" {
				merged.Location = t.Location
			}
			combined[name] = &merged
		case t.Override == "merge" || t.Override == "replace":
			copied := *t
			combined[name] = &copied
		default:
			return fmt.Errorf("layer must define \"override\" for log target %q", name)
		}
	}
	for name, t := range combined {
		if t.Type != "loki" || t.Location == "" {
			return fmt.Errorf("log target %q: bad type %q or location %q", name, t.Type, t.Location)
		}
		for _, svc := range t.Services {
			svc = strings.TrimPrefix(svc, "-")
			if _, ok := f.plan.Services[svc]; !ok && svc != "all" {
				return fmt.Errorf("log target %q specifies unknown service %q", name, svc)
			}
		}
	}
	f.plan.LogTargets = combined
	return nil
}

const lokiURL = "http://loki-0.loki-endpoints:3100/loki/api/v1/push"

func loki(name, location string, services ...string) LogTarget {
	return LogTarget{Name: LogTargetPrefix + name, Location: location, Services: services,
		Labels: map[string]string{"juju_model": "mm", "juju_application": "mirrormaker-k8s", "juju_unit": "mirrormaker-k8s/0"}}
}

func withTargets(d Desired, targets ...LogTarget) Desired {
	d.LogTargets = append([]LogTarget{}, targets...) // non-nil even when empty
	return d
}

// foreign is a layer someone else added: a log target without our prefix.
const foreign = "log-targets:\n  other-loki:\n    override: replace\n    type: loki\n    location: http://other:3100/loki/api/v1/push\n    services: [all]\n"

func addForeign(f *fakePebble) {
	var l layer
	require.NoError(f.t, yaml.Unmarshal([]byte(foreign), &l))
	require.NoError(f.t, f.combineLogTargets(l.LogTargets))
}

func TestApplyLogTargets(t *testing.T) {
	base := withCompanion(baseDesired())
	one := withTargets(base, loki("0", lokiURL))
	two := withTargets(base, loki("0", lokiURL), loki("1", "http://loki-1:3100/loki/api/v1/push", ServiceName, exporterName))
	disabled := func(location string) *layerLogTarget {
		return &layerLogTarget{Override: "replace", Type: "loki", Location: location, Services: []string{"-all"}}
	}
	tests := []struct {
		name    string
		before  *Desired
		poke    func(f *fakePebble)
		apply   Desired
		want    Result // State, CompanionState and Stamps aside
		calls   []string
		targets map[string]*layerLogTarget // the plan's log targets afterwards
	}{{
		name:   "a target added: the layer only, nothing restarts",
		before: &base,
		apply:  one,
		want:   Result{LayerChanged: true, LogTargetsChanged: true},
		calls:  []string{"add-layer"},
		targets: map[string]*layerLogTarget{"mm2-loki-0": {Override: "replace", Type: "loki", Location: lokiURL,
			Services: []string{"all"}, Labels: loki("0", "").Labels}},
	}, {
		name:   "a target's location changed: the layer only",
		before: &one,
		apply:  withTargets(base, loki("0", "http://loki-0:3100/new")),
		want:   Result{LayerChanged: true, LogTargetsChanged: true},
		calls:  []string{"add-layer"},
		targets: map[string]*layerLogTarget{"mm2-loki-0": {Override: "replace", Type: "loki", Location: "http://loki-0:3100/new",
			Services: []string{"all"}, Labels: loki("0", "").Labels}},
	}, {
		name:   "a target's labels changed: the layer only",
		before: &one,
		apply: withTargets(base, func() LogTarget {
			t := loki("0", lokiURL)
			t.Labels["juju_unit"] = "mirrormaker-k8s/1"
			return t
		}()),
		want:  Result{LayerChanged: true, LogTargetsChanged: true},
		calls: []string{"add-layer"},
	}, {
		name:    "every target dropped: ours disabled in place, the foreign one untouched",
		before:  &two,
		poke:    addForeign,
		apply:   withTargets(base),
		want:    Result{LayerChanged: true, LogTargetsChanged: true},
		calls:   []string{"add-layer"},
		targets: map[string]*layerLogTarget{"mm2-loki-0": disabled(lokiURL), "mm2-loki-1": disabled("http://loki-1:3100/loki/api/v1/push"), "other-loki": {Override: "replace", Type: "loki", Location: "http://other:3100/loki/api/v1/push", Services: []string{"all"}}},
	}, {
		name:   "one of two dropped: that one disabled, the other kept",
		before: &two,
		apply:  one,
		want:   Result{LayerChanged: true, LogTargetsChanged: true},
		calls:  []string{"add-layer"},
		targets: map[string]*layerLogTarget{"mm2-loki-0": {Override: "replace", Type: "loki", Location: lokiURL,
			Services: []string{"all"}, Labels: loki("0", "").Labels}, "mm2-loki-1": disabled("http://loki-1:3100/loki/api/v1/push")},
	}, {
		name:   "a disabled target wanted again: enabled",
		before: ptr(withTargets(base)),
		poke: func(f *fakePebble) {
			f.plan.LogTargets = map[string]*layerLogTarget{"mm2-loki-0": disabled(lokiURL)}
		},
		apply: one,
		want:  Result{LayerChanged: true, LogTargetsChanged: true},
		calls: []string{"add-layer"},
	}, {
		name:   "nil targets: ours left as they are",
		before: &two,
		apply:  base,
	}, {
		name:   "no target of ours, only a foreign one, none wanted: nothing",
		before: &base,
		poke:   addForeign,
		apply:  withTargets(base),
	}, {
		name:   "targets and MM2's environment changed: one layer, MM2 restarts once",
		before: &one,
		apply:  withTargets(withCompanion(withEnv(baseDesired(), "KAFKA_HEAP_OPTS", "-Xmx1G")), loki("0", "http://loki-0:3100/new")),
		want:   Result{LayerChanged: true, LogTargetsChanged: true, Restarted: true},
		calls:  []string{"add-layer", "restart"},
	}, {
		name:   "MM2's environment changed, targets the same: no target change reported",
		before: &one,
		apply:  withTargets(withCompanion(withEnv(baseDesired(), "KAFKA_HEAP_OPTS", "-Xmx1G")), loki("0", lokiURL)),
		want:   Result{LayerChanged: true, Restarted: true},
		calls:  []string{"add-layer", "restart"},
	}, {
		name:  "targets before MM2 has a command: the layer holds them alone",
		apply: withTargets(Desired{}, loki("0", lokiURL)),
		want:  Result{LayerChanged: true, LogTargetsChanged: true},
		calls: []string{"add-layer"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakePebble(t)
			w := New(f)
			if tt.before != nil {
				_, err := w.Apply(*tt.before)
				require.NoError(t, err)
			}
			if tt.poke != nil {
				tt.poke(f)
			}
			f.calls = nil

			got, err := w.Apply(tt.apply)
			require.NoError(t, err)
			got.State, got.CompanionState, got.Stamps = "", "", nil
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.calls, f.calls)
			if tt.targets != nil {
				assert.Equal(t, tt.targets, f.plan.LogTargets)
			}

			f.calls = nil
			again, err := w.Apply(tt.apply)
			require.NoError(t, err)
			again.State, again.CompanionState, again.Stamps = "", "", nil
			assert.Equal(t, Result{}, again, "second Apply")
			assert.Empty(t, f.calls, "second Apply: no AddLayer")
		})
	}
}

func TestApplyRejectsBadLogTargets(t *testing.T) {
	for want, targets := range map[string][]LogTarget{
		`cannot forward logs to "loki-0": a log target's name must start with "mm2-loki-"`:                  {{Name: "loki-0", Location: lokiURL}},
		`cannot forward logs to "mm2-loki-": a log target's name must start with "mm2-loki-"`:               {{Name: LogTargetPrefix, Location: lokiURL}},
		`cannot forward logs to "mm2-loki-0": the log target is listed twice`:                               {loki("0", lokiURL), loki("0", lokiURL)},
		`cannot forward logs to "mm2-loki-0": no location`:                                                  {loki("0", "")},
		`cannot forward logs to "mm2-loki-0": label "pebble_service" uses Pebble's reserved prefix pebble_`: {{Name: "mm2-loki-0", Location: lokiURL, Labels: map[string]string{"pebble_service": "x"}}},
	} {
		f := newFakePebble(t)
		_, err := New(f).Apply(withTargets(baseDesired(), targets...))
		assert.EqualError(t, err, want)
		assert.Empty(t, f.calls, "nothing done")
	}
}

func TestLogTargetsRoundTrip(t *testing.T) {
	current := map[string]*layerLogTarget{
		"mm2-loki-9": {Override: "replace", Type: "loki", Location: lokiURL, Services: []string{"all"}},
		"other":      {Override: "merge", Type: "loki", Location: lokiURL, Services: []string{"kafka"}},
	}
	want := desiredLogTargets([]LogTarget{loki("0", lokiURL, ServiceName, "-"+exporterName)}, current)
	assert.NotContains(t, want, "other", "a foreign target is never written")
	out, err := yaml.Marshal(&layer{LogTargets: want})
	require.NoError(t, err)
	back, err := parsePlan(out)
	require.NoError(t, err)
	assert.False(t, logTargetsDiffer(back.LogTargets, want), "differs from itself after a round trip:\n%s", out)
	assert.Contains(t, string(out), "- -all")
	assert.Nil(t, desiredLogTargets(nil, current), "nil leaves targets alone")
}
