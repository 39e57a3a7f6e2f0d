// Package hooks is the charm's boundary with Juju: the hook context Juju
// passes in the environment, and the hook tools Juju puts on PATH, as typed Go
// calls. It knows nothing of Kafka, so the charm's logic can be tested against
// an in-memory model of Juju (package hookstest) instead of a controller.
package hooks

import (
	"fmt"
	"strings"
)

// Context is what Juju tells the charm about the event being dispatched.
// It is read once from the environment so that the rest of the charm never
// touches os.Getenv and can be driven by tests with a plain struct.
type Context struct {
	Unit, App, Model, ModelUUID, CharmDir, JujuVersion, DispatchPath string

	// Hook is the hook name ("config-changed", "source-relation-created"),
	// empty when an action is running.
	Hook string
	// Action and ActionUUID are set when an action is running.
	Action, ActionUUID string

	// Relation is the endpoint name and RelationID its "endpoint:N" id, for
	// relation events.
	Relation, RelationID, RemoteApp, RemoteUnit, DepartingUnit string

	// WorkloadName is the container of a <container>-pebble-* event;
	// SecretID and SecretLabel name the secret of a secret-* event.
	WorkloadName, SecretID, SecretLabel string
}

// NewContext reads the hook context through getenv (os.Getenv in production).
// It fails, naming the variable, when Juju did not set what every event has,
// because a charm run outside a hook should stop before touching anything.
func NewContext(getenv func(string) string) (Context, error) {
	c := Context{
		Unit:          getenv("JUJU_UNIT_NAME"),
		Model:         getenv("JUJU_MODEL_NAME"),
		ModelUUID:     getenv("JUJU_MODEL_UUID"),
		CharmDir:      getenv("JUJU_CHARM_DIR"),
		JujuVersion:   getenv("JUJU_VERSION"),
		DispatchPath:  getenv("JUJU_DISPATCH_PATH"),
		Hook:          getenv("JUJU_HOOK_NAME"),
		Action:        getenv("JUJU_ACTION_NAME"),
		ActionUUID:    getenv("JUJU_ACTION_UUID"),
		Relation:      getenv("JUJU_RELATION"),
		RelationID:    getenv("JUJU_RELATION_ID"),
		RemoteApp:     getenv("JUJU_REMOTE_APP"),
		RemoteUnit:    getenv("JUJU_REMOTE_UNIT"),
		DepartingUnit: getenv("JUJU_DEPARTING_UNIT"),
		WorkloadName:  getenv("JUJU_WORKLOAD_NAME"),
		SecretID:      getenv("JUJU_SECRET_ID"),
		SecretLabel:   getenv("JUJU_SECRET_LABEL"),
	}
	if c.Unit == "" {
		return Context{}, fmt.Errorf("cannot read hook context: JUJU_UNIT_NAME is not set")
	}
	app, _, ok := strings.Cut(c.Unit, "/")
	if !ok || app == "" {
		return Context{}, fmt.Errorf("cannot read hook context: invalid JUJU_UNIT_NAME %q", c.Unit)
	}
	c.App = app
	if c.DispatchPath == "" {
		return Context{}, fmt.Errorf("cannot read hook context: JUJU_DISPATCH_PATH is not set")
	}
	kind, name, _ := strings.Cut(c.DispatchPath, "/")
	switch {
	case c.Action != "":
		c.Hook = ""
	case c.Hook != "":
	case kind == "hooks" && name != "":
		c.Hook = name
	case kind == "actions" && name != "":
		c.Action = name
	default:
		return Context{}, fmt.Errorf("cannot read hook context: invalid JUJU_DISPATCH_PATH %q", c.DispatchPath)
	}
	if c.RemoteApp == "" && c.RemoteUnit != "" {
		c.RemoteApp, _, _ = strings.Cut(c.RemoteUnit, "/")
	}
	return c, nil
}

// IsAction reports whether an action, not a hook, is being dispatched:
// actions report through action-set/action-fail, hooks only through status.
func (c Context) IsAction() bool { return c.Action != "" }

// Event names what is being dispatched, the hook or the action, for logs and
// for the few places where the charm's behaviour depends on it.
func (c Context) Event() string {
	if c.IsAction() {
		return c.Action
	}
	return c.Hook
}
