package hookstest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks"
	"mirrormaker-k8s/hooks/hookstest"
)

func TestEnv(t *testing.T) {
	m, uri := world(t)
	m.CharmDir = "/charm"
	src := m.Relation(1)
	base := map[string]string{
		"JUJU_UNIT_NAME": "mm/1", "JUJU_MODEL_NAME": "migration", "JUJU_MODEL_UUID": m.ModelUUID,
		"JUJU_CHARM_DIR": "/charm", "JUJU_VERSION": "3.6.4",
	}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name string
		got  map[string]string
		want map[string]string
	}{{
		name: "plain hook",
		got:  m.Env("mm/1", "config-changed", nil, ""),
		want: with(map[string]string{"JUJU_DISPATCH_PATH": "hooks/config-changed", "JUJU_HOOK_NAME": "config-changed"}),
	}, {
		name: "relation-changed",
		got:  m.Env("mm/1", "source-relation-changed", src, "kafka/0"),
		want: with(map[string]string{
			"JUJU_DISPATCH_PATH": "hooks/source-relation-changed", "JUJU_HOOK_NAME": "source-relation-changed",
			"JUJU_RELATION": "source", "JUJU_RELATION_ID": "source:1", "JUJU_REMOTE_APP": "kafka", "JUJU_REMOTE_UNIT": "kafka/0",
		}),
	}, {
		name: "relation-departed",
		got:  m.Env("mm/1", "source-relation-departed", src, "kafka/1"),
		want: with(map[string]string{
			"JUJU_DISPATCH_PATH": "hooks/source-relation-departed", "JUJU_HOOK_NAME": "source-relation-departed",
			"JUJU_RELATION": "source", "JUJU_RELATION_ID": "source:1", "JUJU_REMOTE_APP": "kafka", "JUJU_REMOTE_UNIT": "kafka/1",
			"JUJU_DEPARTING_UNIT": "kafka/1",
		}),
	}, {
		name: "relation-broken has no remote unit",
		got:  m.Env("mm/1", "source-relation-broken", src, "kafka/1"),
		want: with(map[string]string{
			"JUJU_DISPATCH_PATH": "hooks/source-relation-broken", "JUJU_HOOK_NAME": "source-relation-broken",
			"JUJU_RELATION": "source", "JUJU_RELATION_ID": "source:1", "JUJU_REMOTE_APP": "kafka",
		}),
	}, {
		name: "pebble-ready",
		got:  m.Env("mm/1", "mirrormaker-pebble-ready", nil, ""),
		want: with(map[string]string{
			"JUJU_DISPATCH_PATH": "hooks/mirrormaker-pebble-ready", "JUJU_HOOK_NAME": "mirrormaker-pebble-ready", "JUJU_WORKLOAD_NAME": "mirrormaker",
		}),
	}, {
		name: "secret-changed",
		got:  m.SecretEnv("mm/1", "secret-changed", uri),
		want: with(map[string]string{
			"JUJU_DISPATCH_PATH": "hooks/secret-changed", "JUJU_HOOK_NAME": "secret-changed",
			"JUJU_SECRET_ID": uri, "JUJU_SECRET_LABEL": "source-user",
		}),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
		})
	}
}

func TestActionEnv(t *testing.T) {
	m := hookstest.NewModel("mm", 2)
	a := m.StartAction("mm/1", "cutover", nil)
	env := m.ActionEnv("mm/1", "cutover")
	assert.Equal(t, "actions/cutover", env["JUJU_DISPATCH_PATH"])
	assert.Equal(t, "", env["JUJU_HOOK_NAME"])
	assert.Equal(t, a.UUID, env["JUJU_ACTION_UUID"])
	assert.Equal(t, "/var/lib/juju/agents/unit-mm-1/charm", env["JUJU_CHARM_DIR"])
}

// TestEnvParses checks the two halves agree: what the model sets is what
// hooks.NewContext reads.
func TestEnvParses(t *testing.T) {
	m, _ := world(t)
	env := m.Env("mm/2", "source-relation-joined", m.Relation(1), "kafka/1")
	c, err := hooks.NewContext(func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, hooks.Context{
		Unit: "mm/2", App: "mm", Model: "migration", ModelUUID: m.ModelUUID, CharmDir: "/var/lib/juju/agents/unit-mm-2/charm",
		JujuVersion: "3.6.4", DispatchPath: "hooks/source-relation-joined", Hook: "source-relation-joined",
		Relation: "source", RelationID: "source:1", RemoteApp: "kafka", RemoteUnit: "kafka/1",
	}, c)

	m.StartAction("mm/0", "start-migration", nil)
	env = m.ActionEnv("mm/0", "start-migration")
	c, err = hooks.NewContext(func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.True(t, c.IsAction())
	assert.Equal(t, "start-migration", c.Event())
	assert.Equal(t, "1", c.ActionUUID)
}
