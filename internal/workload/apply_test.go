package workload

import (
	"errors"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secretContent = "old.sasl.jaas.config=ScramLoginModule required username=\"u\" password=\"s3cr3t-pw\";\n"

func baseDesired() Desired {
	return Desired{
		Files: []File{
			{Path: "/etc/kafka/mm2.properties", Content: []byte("clusters=old,new\n"), Perm: 0o644},
			{Path: "/etc/kafka/mm2-secrets.properties", Content: []byte(secretContent), Perm: 0o600},
		},
		Service: Service{
			Command:     "/opt/kafka/bin/connect-mirror-maker.sh /etc/kafka/mm2.properties",
			Environment: map[string]string{"KAFKA_OPTS": "-javaagent:/opt/kafka/libs/jmx.jar=9101:/etc/kafka/jmx.yaml"},
		},
		Running: true,
	}
}

func withFile(d Desired, content string) Desired {
	d.Files = append([]File(nil), d.Files...)
	d.Files[0].Content = []byte(content)
	return d
}

func withEnv(d Desired, k, v string) Desired {
	env := map[string]string{}
	for key, val := range d.Service.Environment {
		env[key] = val
	}
	env[k] = v
	d.Service.Environment = env
	return d
}

func withCheck(d Desired, url string) Desired {
	d.Service.CheckURL = url
	return d
}

func owned(d Desired, user string) Desired {
	d.Files = append([]File(nil), d.Files...)
	for i := range d.Files {
		d.Files[i].User, d.Files[i].Group = user, user
	}
	return d
}

func stopped(d Desired) Desired {
	d.Running = false
	return d
}

func TestApplyDecisions(t *testing.T) {
	base := baseDesired()
	tests := []struct {
		name   string
		before *Desired             // applied first (nil: a fresh container)
		poke   func(f *fakePebble)  // what happened to the container since
		apply  Desired              // what Apply is given
		want   Result               // what Apply reports
		calls  []string             // mutating Pebble calls Apply makes
		starts int                  // processes started by this Apply
		state  client.ServiceStatus // service status afterwards
	}{{
		name:   "fresh container: push, add layer, start it",
		apply:  base,
		want:   Result{Pushed: []string{"/etc/kafka/mm2.properties", "/etc/kafka/mm2-secrets.properties"}, LayerChanged: true, Started: true},
		calls:  []string{"push /etc/kafka/mm2.properties", "push /etc/kafka/mm2-secrets.properties", "add-layer", "start"},
		starts: 1,
		state:  client.StatusActive,
	}, {
		name:   "nothing changed: nothing happens",
		before: &base,
		apply:  base,
		state:  client.StatusActive,
	}, {
		name:   "a file changed: push it, restart once",
		before: &base,
		apply:  withFile(base, "clusters=old,new\ntasks.max=4\n"),
		want:   Result{Pushed: []string{"/etc/kafka/mm2.properties"}, Restarted: true},
		calls:  []string{"push /etc/kafka/mm2.properties", "restart"},
		starts: 1,
		state:  client.StatusActive,
	}, {
		name:   "environment changed: add layer, restart once",
		before: &base,
		apply:  withEnv(base, "KAFKA_HEAP_OPTS", "-Xmx1G"),
		want:   Result{LayerChanged: true, Restarted: true},
		calls:  []string{"add-layer", "restart"},
		starts: 1,
		state:  client.StatusActive,
	}, {
		name:   "layer and file changed: restart once",
		before: &base,
		apply:  withEnv(withFile(base, "tasks.max=2\n"), "KAFKA_HEAP_OPTS", "-Xmx1G"),
		want:   Result{Pushed: []string{"/etc/kafka/mm2.properties"}, LayerChanged: true, Restarted: true},
		calls:  []string{"push /etc/kafka/mm2.properties", "add-layer", "restart"},
		starts: 1,
		state:  client.StatusActive,
	}, {
		name:   "check added: restart once (on-check-failure is service config)",
		before: &base,
		apply:  withCheck(base, "http://127.0.0.1:8083/"),
		want:   Result{LayerChanged: true, Restarted: true},
		calls:  []string{"add-layer", "restart"},
		starts: 1,
		state:  client.StatusActive,
	}, {
		name:   "check URL changed: the layer only, the service keeps running",
		before: ptr(withCheck(base, "http://127.0.0.1:8083/")),
		apply:  withCheck(base, "http://127.0.0.1:9999/"),
		want:   Result{LayerChanged: true},
		calls:  []string{"add-layer"},
		state:  client.StatusActive,
	}, {
		name:   "check-only layer change and a file change: restart once",
		before: ptr(withCheck(base, "http://127.0.0.1:8083/")),
		apply:  withFile(withCheck(base, "http://127.0.0.1:9999/"), "tasks.max=2\n"),
		want:   Result{Pushed: []string{"/etc/kafka/mm2.properties"}, LayerChanged: true, Restarted: true},
		calls:  []string{"push /etc/kafka/mm2.properties", "add-layer", "restart"},
		starts: 1,
		state:  client.StatusActive,
	}, {
		name:   "check removed: replaced by an inert one",
		before: ptr(withCheck(base, "http://127.0.0.1:8083/")),
		apply:  base,
		want:   Result{LayerChanged: true, Restarted: true},
		calls:  []string{"add-layer", "restart"},
		starts: 1, // on-check-failure left the service config
		state:  client.StatusActive,
	}, {
		name:   "stopped behind our back: start",
		before: &base,
		poke:   func(f *fakePebble) { f.setState(client.StatusInactive) },
		apply:  base,
		want:   Result{Started: true},
		calls:  []string{"start"},
		starts: 1,
		state:  client.StatusActive,
	}, {
		name:   "stopped and a file changed: start once, no restart",
		before: &base,
		poke:   func(f *fakePebble) { f.setState(client.StatusInactive) },
		apply:  withFile(base, "tasks.max=2\n"),
		want:   Result{Pushed: []string{"/etc/kafka/mm2.properties"}, Started: true},
		calls:  []string{"push /etc/kafka/mm2.properties", "start"},
		starts: 1,
		state:  client.StatusActive,
	}, {
		name:   "backing off: start",
		before: &base,
		poke:   func(f *fakePebble) { f.setState(client.StatusBackoff) },
		apply:  base,
		want:   Result{Started: true},
		calls:  []string{"start"},
		starts: 1,
		state:  client.StatusActive,
	}, {
		name:   "secret file mode loosened behind our back: push it back, restart",
		before: &base,
		poke:   func(f *fakePebble) { f.files["/etc/kafka/mm2-secrets.properties"].perm = 0o644 },
		apply:  base,
		want:   Result{Pushed: []string{"/etc/kafka/mm2-secrets.properties"}, Restarted: true},
		calls:  []string{"push /etc/kafka/mm2-secrets.properties", "restart"},
		starts: 1,
		state:  client.StatusActive,
	}, {
		name:   "owner reported under another name for the same uid: nothing",
		before: ptr(owned(base, "kafka")),
		poke:   func(f *fakePebble) { f.files["/etc/kafka/mm2-secrets.properties"].user = "ubuntu" },
		apply:  owned(base, "kafka"),
		state:  client.StatusActive,
	}, {
		name:   "file missing: push it, restart",
		before: &base,
		poke:   func(f *fakePebble) { delete(f.files, "/etc/kafka/mm2.properties") },
		apply:  base,
		want:   Result{Pushed: []string{"/etc/kafka/mm2.properties"}, Restarted: true},
		calls:  []string{"push /etc/kafka/mm2.properties", "restart"},
		starts: 1,
		state:  client.StatusActive,
	}, {
		name:   "a previous Apply pushed and died before restarting: restart",
		before: &base,
		poke: func(f *fakePebble) {
			f.files["/etc/kafka/mm2.properties"].mtime = f.since.Add(2 * time.Second)
			f.now = f.now.Add(3 * time.Second)
		},
		apply:  base,
		want:   Result{Restarted: true},
		calls:  []string{"restart"},
		starts: 1,
		state:  client.StatusActive,
	}, {
		name:   "not running: disable startup and stop",
		before: &base,
		apply:  stopped(base),
		want:   Result{LayerChanged: true, Stopped: true},
		calls:  []string{"add-layer", "stop"},
		state:  client.StatusInactive,
	}, {
		name:   "not running, backing off: stop",
		before: ptr(stopped(base)),
		poke:   func(f *fakePebble) { f.setState(client.StatusBackoff) },
		apply:  stopped(base),
		want:   Result{Stopped: true},
		calls:  []string{"stop"},
		state:  client.StatusInactive,
	}, {
		name:   "not running, already stopped: nothing",
		before: ptr(stopped(base)),
		apply:  stopped(base),
		state:  client.StatusInactive,
	}, {
		name:  "not running, fresh: files and a disabled layer, nothing started",
		apply: stopped(base),
		want:  Result{Pushed: []string{"/etc/kafka/mm2.properties", "/etc/kafka/mm2-secrets.properties"}, LayerChanged: true},
		calls: []string{"push /etc/kafka/mm2.properties", "push /etc/kafka/mm2-secrets.properties", "add-layer"},
		state: client.StatusInactive,
	}, {
		name:   "not running, no command yet: no layer, still stops",
		before: &base,
		apply:  Desired{},
		want:   Result{Stopped: true},
		calls:  []string{"stop"},
		state:  client.StatusInactive,
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

			got, err := w.Apply(tt.apply)
			require.NoError(t, err)
			assert.Equal(t, mustState(t, w), got.State, "the state Apply reports is Pebble's")
			got.State, got.Stamps = "", nil
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.calls, f.calls)
			assert.Equal(t, tt.starts, f.starts, "processes started")
			assert.Equal(t, ServiceState(tt.state), mustState(t, w))

			// Whatever happened, the same Apply again changes nothing.
			f.calls, f.starts = nil, 0
			again, err := w.Apply(tt.apply)
			require.NoError(t, err)
			again.State, again.Stamps = "", nil
			assert.Equal(t, Result{}, again, "second Apply")
			assert.Empty(t, f.calls, "second Apply")
		})
	}
}

func TestApplyFilesCarryModeAndOwner(t *testing.T) {
	f := newFakePebble(t)
	d := baseDesired()
	d.Files[1].User, d.Files[1].Group = "kafka", "kafka"
	_, err := New(f).Apply(d)
	require.NoError(t, err)

	props, secrets := f.files["/etc/kafka/mm2.properties"], f.files["/etc/kafka/mm2-secrets.properties"]
	assert.Equal(t, uint32(0o644), props.perm)
	assert.Equal(t, uint32(0o600), secrets.perm)
	assert.Equal(t, "kafka", secrets.user)
	assert.Equal(t, "kafka", secrets.group)
	assert.Equal(t, secretContent, string(secrets.content))
}

func TestApplyLayer(t *testing.T) {
	f := newFakePebble(t)
	d := withCheck(baseDesired(), "http://127.0.0.1:8083/")
	d.Service.User, d.Service.Group = "kafka", "kafka"
	_, err := New(f).Apply(d)
	require.NoError(t, err)

	svc := f.plan.Services[ServiceName]
	require.NotNil(t, svc)
	assert.Equal(t, "replace", svc.Override)
	assert.Equal(t, d.Service.Command, svc.Command)
	assert.Equal(t, "enabled", svc.Startup)
	assert.Equal(t, "kafka", svc.User)
	assert.Equal(t, "kafka", svc.Group)
	assert.Equal(t, d.Service.Environment, svc.Environment)
	assert.Equal(t, "restart", svc.OnFailure)
	assert.Equal(t, map[string]string{CheckName: "restart"}, svc.OnCheckFailure)
	chk := f.plan.Checks[CheckName]
	require.NotNil(t, chk)
	assert.Equal(t, &layerCheck{Override: "replace", Period: "30s",
		Timeout: "10s", Threshold: 3, HTTP: &httpCheck{URL: "http://127.0.0.1:8083/"}}, chk)
	assert.NotContains(t, svc.Command, "s3cr3t")
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(f *fakePebble)
		desired   Desired
		wantErr   string
		notReady  bool
		changeErr bool
	}{{
		name:    "running without a command",
		desired: Desired{Running: true},
		wantErr: "cannot run mirrormaker: service command is empty",
	}, {
		name:     "pebble unreachable",
		setup:    func(f *fakePebble) { f.errs["ListFiles"] = unreachable() },
		desired:  baseDesired(),
		wantErr:  "cannot list /etc/kafka",
		notReady: true,
	}, {
		name: "push refused",
		setup: func(f *fakePebble) {
			f.errs["Push"] = &client.Error{Kind: "permission-denied", Message: "permission denied"}
		},
		desired: baseDesired(),
		wantErr: "cannot push /etc/kafka/mm2.properties: permission denied",
	}, {
		name:    "layer refused",
		setup:   func(f *fakePebble) { f.errs["AddLayer"] = errors.New("layer invalid") },
		desired: baseDesired(),
		wantErr: "cannot add pebble layer: layer invalid",
	}, {
		name:      "service fails to start",
		setup:     func(f *fakePebble) { f.changeErr["start"] = "cannot perform the following tasks: exited quickly" },
		desired:   baseDesired(),
		wantErr:   "cannot start mirrormaker: change 1 failed: cannot perform the following tasks: exited quickly",
		changeErr: true,
	}, {
		name:     "wait fails on a dropped connection",
		setup:    func(f *fakePebble) { f.errs["WaitChange"] = unreachable() },
		desired:  baseDesired(),
		wantErr:  "cannot wait for start of mirrormaker (change 1)",
		notReady: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakePebble(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			_, err := New(f).Apply(tt.desired)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "s3cr3t")
			assert.Equal(t, tt.notReady, errors.Is(err, ErrNotReady), "errors.Is(err, ErrNotReady)")
			var ce *ChangeError
			assert.Equal(t, tt.changeErr, errors.As(err, &ce), "errors.As(err, *ChangeError)")
			if tt.changeErr {
				assert.Equal(t, "start", ce.Action)
				assert.Len(t, ce.Logs, 1)
			}
		})
	}
}

// unreachable is what the real client returns when its socket is gone (a
// POST, which the client does not retry).
func unreachable() error {
	c, err := client.New(&client.Config{Socket: "/nonexistent/pebble.socket"})
	if err != nil {
		panic(err)
	}
	return c.AddLayer(&client.AddLayerOptions{LayerData: []byte("{}")})
}

func ptr[T any](v T) *T { return &v }

func mustState(t *testing.T, w *Workload) ServiceState {
	t.Helper()
	s, err := w.ServiceState()
	require.NoError(t, err)
	return s
}
