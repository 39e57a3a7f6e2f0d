package workload

import (
	"errors"
	"testing"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const exporterName = "mm2-exporter"

func exporter() *Companion {
	return &Companion{
		Name:        exporterName,
		Summary:     "the migration exporter",
		Command:     "/charm/bin/mirrormaker-k8s exporter --port 9098",
		Environment: map[string]string{"EXPORTER_STATE": "/var/lib/mm2-exporter"},
	}
}

func withCompanion(d Desired) Desired {
	d.Companion = exporter()
	return d
}

func withCompanionEnv(d Desired, k, v string) Desired {
	d = withCompanion(d)
	d.Companion.Environment[k] = v
	return d
}

func TestApplyCompanion(t *testing.T) {
	base := withCompanion(baseDesired())
	tests := []struct {
		name       string
		before     *Desired
		poke       func(f *fakePebble)
		apply      Desired
		want       Result // State, CompanionState and Stamps aside
		calls      []string
		mm2Starts  int
		compStarts int
		mm2State   client.ServiceStatus
		compState  client.ServiceStatus
	}{{
		name:  "fresh container: one layer with both, both started, each by name",
		apply: base,
		want: Result{Pushed: []string{"/etc/kafka/mm2.properties", "/etc/kafka/mm2-secrets.properties"},
			LayerChanged: true, Started: true, CompanionStarted: true},
		calls:     []string{"push /etc/kafka/mm2.properties", "push /etc/kafka/mm2-secrets.properties", "add-layer", "start", "start mm2-exporter"},
		mm2Starts: 1, compStarts: 1,
		mm2State: client.StatusActive, compState: client.StatusActive,
	}, {
		name:       "MM2 not running: the companion runs anyway",
		apply:      stopped(base),
		want:       Result{Pushed: []string{"/etc/kafka/mm2.properties", "/etc/kafka/mm2-secrets.properties"}, LayerChanged: true, CompanionStarted: true},
		calls:      []string{"push /etc/kafka/mm2.properties", "push /etc/kafka/mm2-secrets.properties", "add-layer", "start mm2-exporter"},
		compStarts: 1,
		mm2State:   client.StatusInactive, compState: client.StatusActive,
	}, {
		name:       "companion definition changed: restart it, not MM2",
		before:     &base,
		apply:      withCompanionEnv(baseDesired(), "EXPORTER_INTERVAL", "30s"),
		want:       Result{LayerChanged: true, CompanionRestarted: true},
		calls:      []string{"add-layer", "restart mm2-exporter"},
		compStarts: 1,
		mm2State:   client.StatusActive, compState: client.StatusActive,
	}, {
		name:      "a file pushed: MM2 restarts, the companion does not",
		before:    &base,
		apply:     withCompanion(withFile(baseDesired(), "tasks.max=4\n")),
		want:      Result{Pushed: []string{"/etc/kafka/mm2.properties"}, Restarted: true},
		calls:     []string{"push /etc/kafka/mm2.properties", "restart"},
		mm2Starts: 1,
		mm2State:  client.StatusActive, compState: client.StatusActive,
	}, {
		name:      "MM2's environment changed: MM2 restarts, the companion does not",
		before:    &base,
		apply:     withCompanion(withEnv(baseDesired(), "KAFKA_HEAP_OPTS", "-Xmx1G")),
		want:      Result{LayerChanged: true, Restarted: true},
		calls:     []string{"add-layer", "restart"},
		mm2Starts: 1,
		mm2State:  client.StatusActive, compState: client.StatusActive,
	}, {
		name:     "MM2 stopped: the companion keeps running",
		before:   &base,
		apply:    stopped(base),
		want:     Result{LayerChanged: true, Stopped: true},
		calls:    []string{"add-layer", "stop"},
		mm2State: client.StatusInactive, compState: client.StatusActive,
	}, {
		name:       "companion stopped behind our back while MM2 is stopped: start it alone",
		before:     ptr(stopped(base)),
		poke:       func(f *fakePebble) { f.proc(exporterName).setState(f, client.StatusInactive) },
		apply:      stopped(base),
		want:       Result{CompanionStarted: true},
		calls:      []string{"start mm2-exporter"},
		compStarts: 1,
		mm2State:   client.StatusInactive, compState: client.StatusActive,
	}, {
		name:       "companion backing off: start it",
		before:     &base,
		poke:       func(f *fakePebble) { f.proc(exporterName).setState(f, client.StatusBackoff) },
		apply:      base,
		want:       Result{CompanionStarted: true},
		calls:      []string{"start mm2-exporter"},
		compStarts: 1,
		mm2State:   client.StatusActive, compState: client.StatusActive,
	}, {
		name:       "companion changed and MM2 stopped behind our back: start MM2, restart the companion",
		before:     &base,
		poke:       func(f *fakePebble) { f.setState(client.StatusInactive) },
		apply:      withCompanionEnv(baseDesired(), "EXPORTER_INTERVAL", "30s"),
		want:       Result{LayerChanged: true, Started: true, CompanionRestarted: true},
		calls:      []string{"add-layer", "start", "restart mm2-exporter"},
		mm2Starts:  1,
		compStarts: 1,
		mm2State:   client.StatusActive, compState: client.StatusActive,
	}, {
		name:     "no companion wanted: the one in the plan is left alone",
		before:   &base,
		apply:    baseDesired(),
		mm2State: client.StatusActive, compState: client.StatusActive,
	}, {
		name:       "added beside a running MM2: the layer, then the companion alone",
		before:     ptr(baseDesired()),
		apply:      base,
		want:       Result{LayerChanged: true, CompanionStarted: true},
		calls:      []string{"add-layer", "start mm2-exporter"},
		compStarts: 1,
		mm2State:   client.StatusActive, compState: client.StatusActive,
	}, {
		name:       "no MM2 command yet: the companion alone in the layer",
		apply:      Desired{Companion: exporter()},
		want:       Result{LayerChanged: true, CompanionStarted: true},
		calls:      []string{"add-layer", "start mm2-exporter"},
		compStarts: 1,
		compState:  client.StatusActive,
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
			f.calls, f.starts = nil, 0
			f.proc(exporterName).starts = 0

			got, err := w.Apply(tt.apply)
			require.NoError(t, err)
			assert.Equal(t, ServiceState(tt.mm2State), got.State, "MM2's state")
			if tt.apply.Companion != nil {
				assert.Equal(t, ServiceState(tt.compState), got.CompanionState, "the companion's state")
			} else {
				assert.Equal(t, StateAbsent, got.CompanionState, "no companion, no state")
			}
			assert.Equal(t, tt.compState, f.proc(exporterName).state, "the companion's state in Pebble")
			got.State, got.CompanionState, got.Stamps = "", "", nil
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.calls, f.calls)
			assert.Equal(t, tt.mm2Starts, f.starts, "MM2 processes started")
			assert.Equal(t, tt.compStarts, f.proc(exporterName).starts, "companion processes started")

			f.calls, f.reads = nil, nil
			again, err := w.Apply(tt.apply)
			require.NoError(t, err)
			again.State, again.CompanionState, again.Stamps = "", "", nil
			assert.Equal(t, Result{}, again, "second Apply")
			assert.Empty(t, f.calls, "second Apply")
			wantReads := []string{"plan", "services mirrormaker"}
			if tt.apply.Companion != nil {
				wantReads[1] += "," + exporterName
			}
			assert.Equal(t, wantReads, f.reads, "second Apply: one plan read, one services query for both")
		})
	}
}

func TestApplyCompanionLayer(t *testing.T) {
	f := newFakePebble(t)
	d := withCompanion(stopped(baseDesired()))
	d.Companion.User, d.Companion.Group = "kafka", "kafka"
	_, err := New(f).Apply(d)
	require.NoError(t, err)

	assert.Equal(t, &layerService{
		Override: "replace", Summary: "the migration exporter", Command: d.Companion.Command,
		Startup: "enabled", User: "kafka", Group: "kafka", Environment: d.Companion.Environment,
		OnFailure: "restart",
	}, f.plan.Services[exporterName])
	assert.Equal(t, "disabled", f.plan.Services[ServiceName].Startup, "MM2 is still stopped")
}

// A failed change of one service does not keep the other from its own, and
// the error says which service failed.
func TestApplyCompanionFailures(t *testing.T) {
	t.Run("companion fails to start", func(t *testing.T) {
		f := newFakePebble(t)
		f.changeErr["start mm2-exporter"] = "exited quickly"
		res, err := New(f).Apply(withCompanion(baseDesired()))
		var ce *ChangeError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, exporterName, ce.Service)
		assert.Contains(t, err.Error(), "cannot start mm2-exporter: change 2 failed: exited quickly")
		assert.True(t, res.Started)
		assert.Equal(t, StateActive, res.State, "MM2 started regardless")
		assert.True(t, res.CompanionStarted)
	})
	t.Run("MM2 fails to start", func(t *testing.T) {
		f := newFakePebble(t)
		f.changeErr["start"] = "exited quickly"
		res, err := New(f).Apply(withCompanion(baseDesired()))
		var ce *ChangeError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, ServiceName, ce.Service)
		assert.Contains(t, err.Error(), "cannot start mirrormaker: change 1 failed")
		assert.True(t, res.CompanionStarted)
		assert.Equal(t, StateActive, res.CompanionState, "the companion started regardless")
		assert.Equal(t, []string{"add-layer", "start", "start mm2-exporter"}, f.calls[len(f.calls)-3:])
	})
	t.Run("pebble gone: the companion is not tried", func(t *testing.T) {
		f := newFakePebble(t)
		f.errs["Services"] = unreachable()
		_, err := New(f).Apply(withCompanion(baseDesired()))
		assert.ErrorIs(t, err, ErrNotReady)
		assert.NotContains(t, f.calls, "start mm2-exporter")
	})
}

func TestApplyRejectsBadCompanion(t *testing.T) {
	for name, c := range map[string]Companion{
		"cannot run the companion service: it has no name":                     {Command: "x"},
		`cannot run the companion service: "mirrormaker" is MM2's own service`: {Name: ServiceName, Command: "x"},
		"cannot run mm2-exporter: service command is empty":                    {Name: exporterName},
	} {
		f := newFakePebble(t)
		d := baseDesired()
		d.Companion = &c
		_, err := New(f).Apply(d)
		assert.EqualError(t, err, name)
		assert.Empty(t, f.calls, "nothing done")
		assert.False(t, errors.Is(err, ErrNotReady))
	}
}
