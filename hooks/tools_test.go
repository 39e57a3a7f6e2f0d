package hooks_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks"
)

// recorder is a fake Runner: it records each call and answers with a
// canned stdout or error.
type recorder struct {
	calls  []recorded
	stdout string
	err    error
}

type recorded struct {
	argv  []string
	stdin string
}

func (r *recorder) Run(_ context.Context, tool string, args []string, stdin []byte) ([]byte, error) {
	r.calls = append(r.calls, recorded{argv: append([]string{tool}, args...), stdin: string(stdin)})
	if r.err != nil {
		return nil, r.err
	}
	return []byte(r.stdout), nil
}

func TestTools(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		stdout string
		call   func(*hooks.Tools) (any, error)
		argv   []string
		stdin  string
		want   any
	}{{
		name:   "config-get",
		stdout: `{"source-bootstrap-servers":"10.0.0.1:9092","tasks-max":4}`,
		call:   func(t *hooks.Tools) (any, error) { return t.ConfigGet(ctx) },
		argv:   []string{"config-get", "--format=json"},
		want:   map[string]any{"source-bootstrap-servers": "10.0.0.1:9092", "tasks-max": float64(4)},
	}, {
		name:   "is-leader",
		stdout: "true\n",
		call:   func(t *hooks.Tools) (any, error) { return t.IsLeader(ctx) },
		argv:   []string{"is-leader", "--format=json"},
		want:   true,
	}, {
		name:   "relation-ids",
		stdout: `["source:3"]`,
		call:   func(t *hooks.Tools) (any, error) { return t.RelationIDs(ctx, "source") },
		argv:   []string{"relation-ids", "--format=json", "source"},
		want:   []string{"source:3"},
	}, {
		name:   "relation-list",
		stdout: `["kafka/0","kafka/1"]`,
		call:   func(t *hooks.Tools) (any, error) { return t.RelationUnits(ctx, "source:3") },
		argv:   []string{"relation-list", "--format=json", "-r", "source:3"},
		want:   []string{"kafka/0", "kafka/1"},
	}, {
		name:   "relation-list --app",
		stdout: `"kafka"`,
		call:   func(t *hooks.Tools) (any, error) { return t.RelationApp(ctx, "source:3") },
		argv:   []string{"relation-list", "--format=json", "-r", "source:3", "--app"},
		want:   "kafka",
	}, {
		name:   "relation-get app",
		stdout: `{"endpoints":"k:9092"}`,
		call:   func(t *hooks.Tools) (any, error) { return t.RelationGet(ctx, "source:3", "kafka", true) },
		argv:   []string{"relation-get", "--format=json", "-r", "source:3", "--app", "-", "kafka"},
		want:   map[string]string{"endpoints": "k:9092"},
	}, {
		name:   "relation-get unit, empty bag",
		stdout: "{}\n",
		call:   func(t *hooks.Tools) (any, error) { return t.RelationGet(ctx, "cluster:0", "mm/1", false) },
		argv:   []string{"relation-get", "--format=json", "-r", "cluster:0", "-", "mm/1"},
		want:   map[string]string{},
	}, {
		name: "relation-set app: data on stdin",
		call: func(t *hooks.Tools) (any, error) {
			return nil, t.RelationSet(ctx, "source:3", true, map[string]string{"topic": "__mirrormaker-user", "old": ""})
		},
		argv:  []string{"relation-set", "-r", "source:3", "--app", "--file", "-"},
		stdin: `{"old":"","topic":"__mirrormaker-user"}`,
	}, {
		name: "relation-set unit",
		call: func(t *hooks.Tools) (any, error) {
			return nil, t.RelationSet(ctx, "cluster:0", false, map[string]string{"a": "b"})
		},
		argv:  []string{"relation-set", "-r", "cluster:0", "--file", "-"},
		stdin: `{"a":"b"}`,
	}, {
		name:   "secret-get",
		stdout: `{"username":"u","password":"p"}`,
		call:   func(t *hooks.Tools) (any, error) { return t.SecretGet(ctx, "secret:abc", false) },
		argv:   []string{"secret-get", "--format=json", "secret:abc"},
		want:   map[string]string{"username": "u", "password": "p"},
	}, {
		name:   "secret-get --refresh",
		stdout: `{"username":"u"}`,
		call:   func(t *hooks.Tools) (any, error) { return t.SecretGet(ctx, "secret:abc", true) },
		argv:   []string{"secret-get", "--format=json", "--refresh", "secret:abc"},
		want:   map[string]string{"username": "u"},
	}, {
		name: "status-set unit",
		call: func(t *hooks.Tools) (any, error) {
			return nil, t.StatusSet(ctx, hooks.Status{Name: hooks.StatusBlocked, Message: "-source not related"}, false)
		},
		argv: []string{"status-set", "blocked", "--", "-source not related"},
	}, {
		name: "status-set application",
		call: func(t *hooks.Tools) (any, error) {
			return nil, t.StatusSet(ctx, hooks.Status{Name: hooks.StatusActive}, true)
		},
		argv: []string{"status-set", "--application", "active", "--", ""},
	}, {
		name: "application-version-set",
		call: func(t *hooks.Tools) (any, error) { return nil, t.ApplicationVersionSet(ctx, "3.9.1") },
		argv: []string{"application-version-set", "--", "3.9.1"},
	}, {
		name:   "action-get",
		stdout: `{"phase":"consumers","dry-run":false}`,
		call:   func(t *hooks.Tools) (any, error) { return t.ActionGet(ctx) },
		argv:   []string{"action-get", "--format=json"},
		want:   map[string]any{"phase": "consumers", "dry-run": false},
	}, {
		name: "action-set sorted",
		call: func(t *hooks.Tools) (any, error) {
			return nil, t.ActionSet(ctx, map[string]string{"lag": "0", "groups.synced": "3", "eta": "now"})
		},
		argv: []string{"action-set", "eta=now", "groups.synced=3", "lag=0"},
	}, {
		name: "action-fail",
		call: func(t *hooks.Tools) (any, error) { return nil, t.ActionFail(ctx, "lag is 12") },
		argv: []string{"action-fail", "--", "lag is 12"},
	}, {
		name: "action-log",
		call: func(t *hooks.Tools) (any, error) { return nil, t.ActionLog(ctx, "waiting for lag 0") },
		argv: []string{"action-log", "--", "waiting for lag 0"},
	}, {
		name: "juju-log",
		call: func(t *hooks.Tools) (any, error) { return nil, t.Log(ctx, "WARNING", "-x") },
		argv: []string{"juju-log", "--log-level", "WARNING", "--", "-x"},
	}, {
		name:   "network-get",
		stdout: `"10.1.2.3"` + "\n",
		call:   func(t *hooks.Tools) (any, error) { return t.BindAddress(ctx, "cluster") },
		argv:   []string{"network-get", "cluster", "--bind-address", "--format=json"},
		want:   "10.1.2.3",
	}, {
		name:   "state-get null",
		stdout: "null\n",
		call:   func(t *hooks.Tools) (any, error) { return t.StateGet(ctx) },
		argv:   []string{"state-get", "--format=json"},
		want:   map[string]string{},
	}, {
		name:  "state-set: data on stdin",
		call:  func(t *hooks.Tools) (any, error) { return nil, t.StateSet(ctx, map[string]string{"hash": "abc"}) },
		argv:  []string{"state-set", "--file", "-"},
		stdin: `{"hash":"abc"}`,
	}, {
		name: "state-delete",
		call: func(t *hooks.Tools) (any, error) { return nil, t.StateDelete(ctx, "hash") },
		argv: []string{"state-delete", "hash"},
	}, {
		name: "open-port",
		call: func(t *hooks.Tools) (any, error) { return nil, t.OpenPort(ctx, 9404) },
		argv: []string{"open-port", "9404/tcp"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{stdout: tt.stdout}
			got, err := tt.call(hooks.NewTools(r))
			require.NoError(t, err)
			require.Len(t, r.calls, 1)
			assert.Equal(t, tt.argv, r.calls[0].argv)
			assert.Equal(t, tt.stdin, r.calls[0].stdin)
			if tt.want != nil {
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

func TestActionSetRejectsBadKeys(t *testing.T) {
	for _, key := range []string{"Lag", "lag_total", "-lag", "lag-", "a..b", ".a", "stdout", "x.stderr", ""} {
		t.Run(key, func(t *testing.T) {
			r := &recorder{}
			err := hooks.NewTools(r).ActionSet(context.Background(), map[string]string{"ok": "1", key: "v"})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "cannot set action results")
			assert.Contains(t, err.Error(), `"`+key+`"`)
			assert.Empty(t, r.calls, "nothing runs when a key is bad")
		})
	}
	for _, key := range []string{"lag", "a.b-c", "0", "groups.synced.count", "x1"} {
		assert.NoError(t, hooks.ValidActionKey(key), key)
	}
	r := &recorder{}
	require.NoError(t, hooks.NewTools(r).ActionSet(context.Background(), nil))
	assert.Empty(t, r.calls)
}

// TestActionSetSplitsAtTheBudget: results go out in sorted order, in as few action-set calls
// as keep each under 100 KB of argv; a key too large for any call, or a key that Juju would
// nest another under, fails before anything runs.
func TestActionSetSplitsAtTheBudget(t *testing.T) {
	ctx := context.Background()
	v := strings.Repeat("x", 10_000-len("k00=")-9) // each argument costs 10,000 bytes
	results := map[string]string{}
	for i := range 25 {
		results[fmt.Sprintf("k%02d", i)] = v
	}
	r := &recorder{}
	require.NoError(t, hooks.NewTools(r).ActionSet(ctx, results))
	require.Len(t, r.calls, 3)
	var keys []string
	for i, c := range r.calls {
		assert.Equal(t, "action-set", c.argv[0])
		assert.Len(t, c.argv[1:], []int{10, 10, 5}[i])
		for _, a := range c.argv[1:] {
			k, _, _ := strings.Cut(a, "=")
			keys = append(keys, k)
		}
	}
	assert.True(t, sort.StringsAreSorted(keys), "sorted across calls")
	assert.Len(t, keys, 25)

	tests := []struct {
		name    string
		results map[string]string
		want    string
	}{
		{"one value past the budget", map[string]string{"ok": "1", "groups.0.report": strings.Repeat("y", 100_000)},
			`cannot set action result "groups.0.report": 100016 bytes is more than one action-set call may carry (100000)`},
		{"a key under another", map[string]string{"summary": "x", "summary-line": "y", "summary.groups": "2"},
			`cannot set action results: result key "summary" would be replaced by "summary.groups": Juju nests dotted keys`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{}
			assert.EqualError(t, hooks.NewTools(r).ActionSet(ctx, tt.results), tt.want)
			assert.Empty(t, r.calls, "nothing set")
		})
	}

	failing := &recorder{err: &hooks.ToolError{Tool: "action-set", Stderr: "ERROR not running an action\n", ExitCode: 1}}
	err := hooks.NewTools(failing).ActionSet(ctx, results)
	assert.EqualError(t, err, "cannot set action results (call 1 of 3): cannot run action-set: ERROR not running an action")
}

func TestToolErrorsPropagate(t *testing.T) {
	ctx := context.Background()
	te := &hooks.ToolError{Tool: "relation-get", Args: []string{"-r", "x:1"}, Stderr: "ERROR boom\n", ExitCode: 1}
	tl := hooks.NewTools(&recorder{err: te})
	calls := map[string]func() error{
		"ConfigGet":   func() error { _, err := tl.ConfigGet(ctx); return err },
		"IsLeader":    func() error { _, err := tl.IsLeader(ctx); return err },
		"RelationGet": func() error { _, err := tl.RelationGet(ctx, "x:1", "a", true); return err },
		"RelationSet": func() error { return tl.RelationSet(ctx, "x:1", false, map[string]string{"a": "b"}) },
		"SecretGet":   func() error { _, err := tl.SecretGet(ctx, "secret:x", true); return err },
		"StatusSet":   func() error { return tl.StatusSet(ctx, hooks.Status{Name: "active"}, false) },
		"ActionSet":   func() error { return tl.ActionSet(ctx, map[string]string{"a": "b"}) },
		"BindAddress": func() error { _, err := tl.BindAddress(ctx, "cluster"); return err },
		"StateGet":    func() error { _, err := tl.StateGet(ctx); return err },
	}
	for name, call := range calls {
		var got *hooks.ToolError
		require.ErrorAs(t, call(), &got, name)
	}
}

func TestToolOutputMustParse(t *testing.T) {
	_, err := hooks.NewTools(&recorder{stdout: "True\n"}).IsLeader(context.Background())
	require.ErrorContains(t, err, "cannot parse is-leader output")
}

func TestToolErrorIs(t *testing.T) {
	tests := []struct {
		tool, stderr string
		want         error
	}{
		{"relation-get", `ERROR invalid value "source:9" for option -r: relation not found` + "\n", hooks.ErrRelationNotFound},
		{"relation-list", "ERROR relation not found\n", hooks.ErrRelationNotFound},
		{"secret-get", `ERROR secret "abc" not found` + "\n", hooks.ErrSecretNotFound},
		{"relation-set", "ERROR cannot write relation settings\n", hooks.ErrNotLeader},
		{"status-set", "ERROR this unit is not the leader\n", hooks.ErrNotLeader},
		{"secret-get", "ERROR permission denied\n", hooks.ErrPermissionDenied},
		{"relation-get", "ERROR permission denied\n", hooks.ErrPermissionDenied},
	}
	all := []error{hooks.ErrRelationNotFound, hooks.ErrSecretNotFound, hooks.ErrNotLeader, hooks.ErrPermissionDenied}
	for _, tt := range tests {
		t.Run(tt.tool+" "+tt.want.Error(), func(t *testing.T) {
			var err error = &hooks.ToolError{Tool: tt.tool, Stderr: tt.stderr, ExitCode: 1}
			for _, sentinel := range all {
				assert.Equal(t, sentinel == tt.want, errors.Is(err, sentinel), sentinel.Error())
			}
		})
	}
	err := &hooks.ToolError{Tool: "relation-set", Args: []string{"-r", "source:3", "--file", "-"}, Stderr: "ERROR cannot write relation settings\n", ExitCode: 1}
	assert.Equal(t, "cannot run relation-set: ERROR cannot write relation settings", err.Error())
	assert.Equal(t, "cannot run is-leader: exit status 3", (&hooks.ToolError{Tool: "is-leader", ExitCode: 3}).Error())
}
