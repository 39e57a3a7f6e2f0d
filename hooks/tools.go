package hooks

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Tools calls Juju's hook tools the way the Python ops library does, with
// JSON output, and with anything that may be secret (relation data, state)
// passed on stdin rather than argv, where the process list would show it.
type Tools struct {
	r Runner
}

// NewTools returns Tools that run hook tools through r: ExecRunner{} in a
// real hook, hookstest.Model.Runner in tests.
func NewTools(r Runner) *Tools { return &Tools{r: r} }

// Status is a workload status as status-set takes it.
type Status struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// The statuses a charm may set; Juju sets the others (error, unknown) itself.
const (
	StatusActive      = "active"
	StatusBlocked     = "blocked"
	StatusWaiting     = "waiting"
	StatusMaintenance = "maintenance"
)

func (t *Tools) run(ctx context.Context, tool string, args []string, stdin []byte) ([]byte, error) {
	return t.r.Run(ctx, tool, args, stdin)
}

// runJSON runs a tool and decodes its --format=json output into out.
func (t *Tools) runJSON(ctx context.Context, out any, tool string, args ...string) error {
	stdout, err := t.run(ctx, tool, args, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		return fmt.Errorf("cannot parse %s output: %w", tool, err)
	}
	return nil
}

// runMap runs a tool whose JSON output is an object, reading Juju's null
// (an empty state, say) as an empty map.
func runMap[V any](ctx context.Context, t *Tools, tool string, args ...string) (map[string]V, error) {
	var out map[string]V
	if err := t.runJSON(ctx, &out, tool, args...); err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]V{}
	}
	return out, nil
}

// ConfigGet returns the application's config: the options set or defaulted.
func (t *Tools) ConfigGet(ctx context.Context) (map[string]any, error) {
	return runMap[any](ctx, t, "config-get", "--format=json")
}

// IsLeader reports whether this unit is the leader, the only one allowed to
// write the application databags and the application status.
func (t *Tools) IsLeader(ctx context.Context) (bool, error) {
	var out bool
	err := t.runJSON(ctx, &out, "is-leader", "--format=json")
	return out, err
}

// RelationIDs lists the ids ("endpoint:N") of the relations on an endpoint.
func (t *Tools) RelationIDs(ctx context.Context, endpoint string) ([]string, error) {
	var out []string
	if err := t.runJSON(ctx, &out, "relation-ids", "--format=json", endpoint); err != nil {
		return nil, err
	}
	return out, nil
}

// RelationUnits lists the remote units of a relation (the other units, for a
// peer relation).
func (t *Tools) RelationUnits(ctx context.Context, id string) ([]string, error) {
	var out []string
	if err := t.runJSON(ctx, &out, "relation-list", "--format=json", "-r", id); err != nil {
		return nil, err
	}
	return out, nil
}

// RelationApp returns the remote application of a relation, known even
// before any remote unit has joined.
func (t *Tools) RelationApp(ctx context.Context, id string) (string, error) {
	var out string
	err := t.runJSON(ctx, &out, "relation-list", "--format=json", "-r", id, "--app")
	return out, err
}

// RelationGet reads the databag of member (a unit, or an application when
// app is set) in a relation.
func (t *Tools) RelationGet(ctx context.Context, id, member string, app bool) (map[string]string, error) {
	args := []string{"--format=json", "-r", id}
	if app {
		args = append(args, "--app")
	}
	args = append(args, "-", member)
	return runMap[string](ctx, t, "relation-get", args...)
}

// RelationSet updates this unit's databag, or the application's when app is
// set (leader only). An empty value deletes its key. The data travels as
// JSON on stdin because it may hold credentials.
func (t *Tools) RelationSet(ctx context.Context, id string, app bool, data map[string]string) error {
	args := []string{"-r", id}
	if app {
		args = append(args, "--app")
	}
	args = append(args, "--file", "-")
	stdin, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("cannot encode relation data: %w", err)
	}
	_, err = t.run(ctx, "relation-set", args, stdin)
	return err
}

// SecretGet returns a secret's content. With refresh the unit moves to the
// latest revision (what secret-changed asks for); without it Juju returns
// the revision the unit last saw.
func (t *Tools) SecretGet(ctx context.Context, uri string, refresh bool) (map[string]string, error) {
	args := []string{"--format=json"}
	if refresh {
		args = append(args, "--refresh")
	}
	args = append(args, uri)
	return runMap[string](ctx, t, "secret-get", args...)
}

// StatusSet sets the unit status, or the application status when app is set
// (leader only). The message follows "--" so it may start with a hyphen.
func (t *Tools) StatusSet(ctx context.Context, s Status, app bool) error {
	var args []string
	if app {
		args = append(args, "--application")
	}
	args = append(args, s.Name, "--", s.Message)
	_, err := t.run(ctx, "status-set", args, nil)
	return err
}

// ApplicationVersionSet shows the workload version in juju status.
func (t *Tools) ApplicationVersionSet(ctx context.Context, v string) error {
	_, err := t.run(ctx, "application-version-set", []string{"--", v}, nil)
	return err
}

// ActionGet returns the running action's parameters, defaults filled in.
func (t *Tools) ActionGet(ctx context.Context) (map[string]any, error) {
	return runMap[any](ctx, t, "action-get", "--format=json")
}

// actionKeyPart is the rule Juju applies to each dot-separated part of an
// action result key; together they match ^[a-z0-9](([a-z0-9-.]+)?[a-z0-9])?$.
var actionKeyPart = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)

// reservedActionKeys are result keys Juju keeps for itself.
var reservedActionKeys = map[string]bool{"stdout": true, "stdout-encoding": true, "stderr": true, "stderr-encoding": true}

// ValidActionKey reports whether Juju accepts key as an action result key,
// so a bad key fails in the charm with a clear error rather than in Juju.
func ValidActionKey(key string) error {
	for _, part := range strings.Split(key, ".") {
		if !actionKeyPart.MatchString(part) {
			return fmt.Errorf("invalid action result key %q: must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods", key)
		}
		if reservedActionKeys[part] {
			return fmt.Errorf("invalid action result key %q: %q is reserved", key, part)
		}
	}
	return nil
}

// actionSetBudget bounds the argv bytes of one action-set call. Linux refuses
// an exec whose arguments and environment pass ARG_MAX (a quarter of the
// stack limit: 2 MiB by default) or any one argument longer than
// MAX_ARG_STRLEN (128 KiB), with E2BIG. 100 KB per call leaves room for
// the hook's environment under both, whatever the stack limit.
const actionSetBudget = 100 * 1000

// ArgvCost is what one argument takes of the kernel's exec budget: its
// bytes, its NUL and its pointer.
func ArgvCost(arg string) int { return len(arg) + 1 + 8 }

// ActionSet adds results to the running action. Keys are checked first and
// sorted so that the calls are deterministic. Values go on argv (action-set
// has no --file), so results must never hold secrets. Results larger than
// one exec may carry are split across several action-set calls: Juju adds
// each call's keys to the same result map (HookContext.UpdateActionResults),
// so the user sees one result. A single key=value too large for a call is an
// error naming the key; nothing is set then. Should a later call fail, the
// keys of the earlier calls stay set and the error says which call failed.
func (t *Tools) ActionSet(ctx context.Context, results map[string]string) error {
	if len(results) == 0 {
		return nil
	}
	keys := make([]string, 0, len(results))
	for k := range results {
		if err := ValidActionKey(k); err != nil {
			return fmt.Errorf("cannot set action results: %w", err)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if err := checkNesting(keys); err != nil {
		return fmt.Errorf("cannot set action results: %w", err)
	}
	var calls [][]string
	var args []string
	size := 0
	for _, k := range keys {
		arg := k + "=" + results[k]
		cost := ArgvCost(arg)
		if cost > actionSetBudget {
			return fmt.Errorf("cannot set action result %q: %d bytes is more than one action-set call may carry (%d)", k, len(arg), actionSetBudget)
		}
		if size+cost > actionSetBudget {
			calls, args, size = append(calls, args), nil, 0
		}
		args = append(args, arg)
		size += cost
	}
	calls = append(calls, args)
	for i, args := range calls {
		if _, err := t.run(ctx, "action-set", args, nil); err != nil {
			if len(calls) > 1 {
				return fmt.Errorf("cannot set action results (call %d of %d): %w", i+1, len(calls), err)
			}
			return err
		}
	}
	return nil
}

// checkNesting refuses a key that is also the parent of another ("a" and
// "a.b"): Juju nests dotted keys into maps, so one would silently replace the
// other.
func checkNesting(keys []string) error {
	set := make(map[string]bool, len(keys))
	for _, k := range keys {
		set[k] = true
	}
	for _, k := range keys {
		for i := 0; i < len(k); i++ {
			if k[i] == '.' && set[k[:i]] {
				return fmt.Errorf("result key %q would be replaced by %q: Juju nests dotted keys", k[:i], k)
			}
		}
	}
	return nil
}

// ActionFail marks the running action failed with msg.
func (t *Tools) ActionFail(ctx context.Context, msg string) error {
	_, err := t.run(ctx, "action-fail", []string{"--", msg}, nil)
	return err
}

// ActionLog reports progress that the user sees while the action runs.
func (t *Tools) ActionLog(ctx context.Context, msg string) error {
	_, err := t.run(ctx, "action-log", []string{"--", msg}, nil)
	return err
}

// Log writes to the unit's debug log at level (DEBUG, INFO, WARNING, ERROR).
func (t *Tools) Log(ctx context.Context, level, msg string) error {
	_, err := t.run(ctx, "juju-log", []string{"--log-level", level, "--", msg}, nil)
	return err
}

// BindAddress returns this unit's address on a binding (an endpoint or extra
// binding): what the unit listens on and advertises to its peers.
func (t *Tools) BindAddress(ctx context.Context, binding string) (string, error) {
	var out string
	err := t.runJSON(ctx, &out, "network-get", binding, "--bind-address", "--format=json")
	return out, err
}

// StateGet returns the unit's server-side state (Juju returns null when
// empty, read as an empty map).
func (t *Tools) StateGet(ctx context.Context) (map[string]string, error) {
	return runMap[string](ctx, t, "state-get", "--format=json")
}

// StateSet updates the unit's server-side state, as JSON on stdin.
func (t *Tools) StateSet(ctx context.Context, data map[string]string) error {
	stdin, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("cannot encode state: %w", err)
	}
	_, err = t.run(ctx, "state-set", []string{"--file", "-"}, stdin)
	return err
}

// StateDelete removes one key from the unit's server-side state.
func (t *Tools) StateDelete(ctx context.Context, key string) error {
	_, err := t.run(ctx, "state-delete", []string{key}, nil)
	return err
}

// OpenPort opens a TCP port on the unit (for K8s, on its service).
func (t *Tools) OpenPort(ctx context.Context, port int) error {
	_, err := t.run(ctx, "open-port", []string{fmt.Sprintf("%d/tcp", port)}, nil)
	return err
}
