package workload

import (
	"errors"
	"testing"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReady(t *testing.T) {
	f := newFakePebble(t)
	w := New(f)
	assert.NoError(t, w.Ready())

	f = newFakePebble(t)
	f.errs["SysInfo"] = unreachable()
	err := New(f).Ready()
	assert.ErrorIs(t, err, ErrNotReady)
	assert.ErrorContains(t, err, "pebble is not ready")
}

func TestServiceState(t *testing.T) {
	f := newFakePebble(t)
	w := New(f)
	state, err := w.ServiceState()
	require.NoError(t, err)
	assert.Equal(t, StateAbsent, state, "no service in the plan")

	_, err = w.Apply(stopped(baseDesired()))
	require.NoError(t, err)
	state, err = w.ServiceState()
	require.NoError(t, err)
	assert.Equal(t, StateInactive, state)

	f.setState(client.StatusBackoff)
	state, err = w.ServiceState()
	require.NoError(t, err)
	assert.Equal(t, StateBackoff, state)

	f.errs["Services"] = unreachable()
	_, err = w.ServiceState()
	assert.ErrorIs(t, err, ErrNotReady)
}

func TestStop(t *testing.T) {
	tests := []struct {
		name  string
		state client.ServiceStatus // "" means no service in the plan
		want  bool
		calls []string
	}{
		{name: "no service", state: ""},
		{name: "inactive", state: client.StatusInactive},
		{name: "error", state: client.StatusError},
		{name: "active", state: client.StatusActive, want: true, calls: []string{"stop"}},
		{name: "backoff", state: client.StatusBackoff, want: true, calls: []string{"stop"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakePebble(t)
			w := New(f)
			if tt.state != "" {
				_, err := w.Apply(stopped(baseDesired()))
				require.NoError(t, err)
				f.setState(tt.state)
			}
			f.calls = nil
			got, err := w.Stop()
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.calls, f.calls)
		})
	}
}

func TestStopFails(t *testing.T) {
	f := newFakePebble(t)
	w := New(f)
	_, err := w.Apply(baseDesired())
	require.NoError(t, err)
	f.changeErr["stop"] = "cannot stop service: timeout"
	stopped, err := w.Stop()
	assert.True(t, stopped, "the stop was asked for")
	var ce *ChangeError
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, "stop", ce.Action)
	assert.EqualError(t, err, "cannot stop mirrormaker: change 2 failed: cannot stop service: timeout\n2026-01-02T03:04:05Z ERROR cannot stop service: timeout")
}

func TestChangeStillRunning(t *testing.T) {
	f := newFakePebble(t)
	w := New(f)
	_, err := w.Apply(baseDesired())
	require.NoError(t, err)
	f.pending["stop"] = true
	_, err = w.Stop()
	var ce *ChangeError
	require.ErrorAs(t, err, &ce)
	assert.EqualError(t, err, "cannot stop mirrormaker: change 2 failed: still Doing after 1m30s")
}

func TestKafkaVersion(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{name: "no libs", want: ""},
		{name: "one jar", files: []string{"kafka-clients-3.9.0.jar", "connect-mirror-3.9.0.jar"}, want: "3.9.0"},
		{name: "test and sources jars ignored", files: []string{"kafka-clients-4.0.0-test.jar", "kafka-clients-4.0.0-sources.jar", "kafka-clients-4.0.0.jar"}, want: "4.0.0"},
		{name: "vendor suffix kept", files: []string{"kafka-clients-3.9.1-ubuntu0.jar"}, want: "3.9.1-ubuntu0"},
		{name: "not a version", files: []string{"kafka-clients-latest.jar"}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakePebble(t)
			for _, name := range tt.files {
				f.files[KafkaLibsDir+"/"+name] = &fakeFile{perm: 0o644, mtime: f.tick()}
			}
			got, err := New(f).KafkaVersion()
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestKafkaVersionErrors(t *testing.T) {
	f := newFakePebble(t)
	f.errs["ListFiles"] = notFound(KafkaLibsDir)
	got, err := New(f).KafkaVersion()
	require.NoError(t, err, "a missing libs dir is no version, not an error")
	assert.Equal(t, "", got)

	f.errs["ListFiles"] = unreachable()
	_, err = New(f).KafkaVersion()
	assert.ErrorIs(t, err, ErrNotReady)
}

// The charm stores a state's value in its peer data and branches on Running and Failing, so
// each state's word and meaning are pinned here.
func TestServiceStateMeaning(t *testing.T) {
	tests := []struct {
		state                       ServiceState
		word, str                   string
		running, failing, stoppable bool
	}{
		{state: StateAbsent, word: "", str: "absent"},
		{state: StateInactive, word: "inactive", str: "inactive"},
		{state: StateActive, word: "active", str: "active", running: true, stoppable: true},
		{state: StateBackoff, word: "backoff", str: "backoff", failing: true, stoppable: true},
		{state: StateError, word: "error", str: "error", failing: true},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			assert.Equal(t, tt.word, string(tt.state))
			assert.Equal(t, tt.str, tt.state.String())
			assert.Equal(t, tt.running, tt.state.Running())
			assert.Equal(t, tt.failing, tt.state.Failing())
			assert.Equal(t, tt.stoppable, tt.state.stoppable())
		})
	}
}
