package hookstest

import (
	"fmt"
	"strings"
)

// baseEnv is what Juju sets for every event on unit.
func (m *Model) baseEnv(unit, dispatch string) map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	charmDir := m.CharmDir
	if charmDir == "" {
		charmDir = fmt.Sprintf("/var/lib/juju/agents/unit-%s/charm", strings.ReplaceAll(unit, "/", "-"))
	}
	return map[string]string{
		"JUJU_UNIT_NAME":     unit,
		"JUJU_MODEL_NAME":    m.ModelName,
		"JUJU_MODEL_UUID":    m.ModelUUID,
		"JUJU_CHARM_DIR":     charmDir,
		"JUJU_VERSION":       m.JujuVersion,
		"JUJU_DISPATCH_PATH": dispatch,
		"JUJU_HOOK_NAME":     "",
	}
}

// Env is the environment Juju sets when it runs hook on unit. For relation
// hooks pass the relation, and for -joined, -changed and -departed the
// remote unit (for -departed it is also JUJU_DEPARTING_UNIT; when the local
// unit is the one leaving, overwrite that variable). Pebble hooks
// ("<container>-pebble-ready" and friends) get JUJU_WORKLOAD_NAME.
func (m *Model) Env(unit, hook string, rel *Relation, remoteUnit string) map[string]string {
	env := m.baseEnv(unit, "hooks/"+hook)
	env["JUJU_HOOK_NAME"] = hook
	if rel != nil {
		env["JUJU_RELATION"] = rel.Endpoint
		env["JUJU_RELATION_ID"] = rel.RelationID()
		env["JUJU_REMOTE_APP"] = rel.RemoteApp
		if remoteUnit != "" && !strings.HasSuffix(hook, "-relation-broken") {
			env["JUJU_REMOTE_UNIT"] = remoteUnit
		}
		if remoteUnit != "" && strings.HasSuffix(hook, "-relation-departed") {
			env["JUJU_DEPARTING_UNIT"] = remoteUnit
		}
	}
	if container, _, ok := strings.Cut(hook, "-pebble-"); ok {
		env["JUJU_WORKLOAD_NAME"] = container
	}
	return env
}

// SecretEnv is the environment of a secret hook (secret-changed,
// secret-remove, ...) about the secret at uri.
func (m *Model) SecretEnv(unit, hook, uri string) map[string]string {
	env := m.Env(unit, hook, nil, "")
	env["JUJU_SECRET_ID"] = uri
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.secret(uri, ""); s != nil {
		env["JUJU_SECRET_LABEL"] = s.Label
	}
	return env
}

// ActionEnv is the environment of the action running on unit (started with
// StartAction); its name is action.
func (m *Model) ActionEnv(unit, action string) map[string]string {
	env := m.baseEnv(unit, "actions/"+action)
	env["JUJU_ACTION_NAME"] = action
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Action != nil && m.Action.Name == action && m.Action.Unit == unit {
		env["JUJU_ACTION_UUID"] = m.Action.UUID
	}
	return env
}
