package hooks_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestNewContext(t *testing.T) {
	base := func(extra map[string]string) map[string]string {
		m := map[string]string{
			"JUJU_UNIT_NAME":  "mirrormaker-k8s/1",
			"JUJU_MODEL_NAME": "migration",
			"JUJU_MODEL_UUID": "uuid-1",
			"JUJU_CHARM_DIR":  "/var/lib/juju/agents/unit-mirrormaker-k8s-1/charm",
			"JUJU_VERSION":    "3.6.4",
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	common := hooks.Context{
		Unit: "mirrormaker-k8s/1", App: "mirrormaker-k8s", Model: "migration", ModelUUID: "uuid-1",
		CharmDir: "/var/lib/juju/agents/unit-mirrormaker-k8s-1/charm", JujuVersion: "3.6.4",
	}
	with := func(f func(c *hooks.Context)) hooks.Context { c := common; f(&c); return c }

	tests := []struct {
		name    string
		env     map[string]string
		want    hooks.Context
		action  bool
		event   string
		wantErr string
	}{{
		name:  "hook from JUJU_HOOK_NAME",
		env:   base(map[string]string{"JUJU_DISPATCH_PATH": "hooks/config-changed", "JUJU_HOOK_NAME": "config-changed"}),
		want:  with(func(c *hooks.Context) { c.DispatchPath = "hooks/config-changed"; c.Hook = "config-changed" }),
		event: "config-changed",
	}, {
		name:  "hook from dispatch path only",
		env:   base(map[string]string{"JUJU_DISPATCH_PATH": "hooks/update-status"}),
		want:  with(func(c *hooks.Context) { c.DispatchPath = "hooks/update-status"; c.Hook = "update-status" }),
		event: "update-status",
	}, {
		name: "relation event",
		env: base(map[string]string{
			"JUJU_DISPATCH_PATH": "hooks/source-relation-changed", "JUJU_HOOK_NAME": "source-relation-changed",
			"JUJU_RELATION": "source", "JUJU_RELATION_ID": "source:7", "JUJU_REMOTE_APP": "kafka", "JUJU_REMOTE_UNIT": "kafka/2",
		}),
		want: with(func(c *hooks.Context) {
			c.DispatchPath, c.Hook = "hooks/source-relation-changed", "source-relation-changed"
			c.Relation, c.RelationID, c.RemoteApp, c.RemoteUnit = "source", "source:7", "kafka", "kafka/2"
		}),
		event: "source-relation-changed",
	}, {
		name: "remote app derived from remote unit",
		env: base(map[string]string{
			"JUJU_DISPATCH_PATH": "hooks/target-relation-departed", "JUJU_RELATION": "target", "JUJU_RELATION_ID": "target:3",
			"JUJU_REMOTE_UNIT": "kafka-k8s/0", "JUJU_DEPARTING_UNIT": "kafka-k8s/0",
		}),
		want: with(func(c *hooks.Context) {
			c.DispatchPath, c.Hook = "hooks/target-relation-departed", "target-relation-departed"
			c.Relation, c.RelationID, c.RemoteApp, c.RemoteUnit, c.DepartingUnit = "target", "target:3", "kafka-k8s", "kafka-k8s/0", "kafka-k8s/0"
		}),
		event: "target-relation-departed",
	}, {
		name: "action from JUJU_ACTION_NAME",
		env:  base(map[string]string{"JUJU_DISPATCH_PATH": "actions/start-migration", "JUJU_ACTION_NAME": "start-migration", "JUJU_ACTION_UUID": "12"}),
		want: with(func(c *hooks.Context) {
			c.DispatchPath, c.Action, c.ActionUUID = "actions/start-migration", "start-migration", "12"
		}),
		action: true,
		event:  "start-migration",
	}, {
		name:   "action from dispatch path only",
		env:    base(map[string]string{"JUJU_DISPATCH_PATH": "actions/cutover"}),
		want:   with(func(c *hooks.Context) { c.DispatchPath, c.Action = "actions/cutover", "cutover" }),
		action: true,
		event:  "cutover",
	}, {
		name: "pebble ready",
		env:  base(map[string]string{"JUJU_DISPATCH_PATH": "hooks/mirrormaker-pebble-ready", "JUJU_WORKLOAD_NAME": "mirrormaker"}),
		want: with(func(c *hooks.Context) {
			c.DispatchPath, c.Hook, c.WorkloadName = "hooks/mirrormaker-pebble-ready", "mirrormaker-pebble-ready", "mirrormaker"
		}),
		event: "mirrormaker-pebble-ready",
	}, {
		name: "secret changed",
		env:  base(map[string]string{"JUJU_DISPATCH_PATH": "hooks/secret-changed", "JUJU_SECRET_ID": "secret:abc", "JUJU_SECRET_LABEL": "source-user"}),
		want: with(func(c *hooks.Context) {
			c.DispatchPath, c.Hook, c.SecretID, c.SecretLabel = "hooks/secret-changed", "secret-changed", "secret:abc", "source-user"
		}),
		event: "secret-changed",
	}, {
		name:    "no unit",
		env:     map[string]string{"JUJU_DISPATCH_PATH": "hooks/install"},
		wantErr: "JUJU_UNIT_NAME is not set",
	}, {
		name:    "bad unit",
		env:     map[string]string{"JUJU_UNIT_NAME": "mirrormaker", "JUJU_DISPATCH_PATH": "hooks/install"},
		wantErr: `invalid JUJU_UNIT_NAME "mirrormaker"`,
	}, {
		name:    "no dispatch path",
		env:     base(map[string]string{"JUJU_HOOK_NAME": "install"}),
		wantErr: "JUJU_DISPATCH_PATH is not set",
	}, {
		name:    "bad dispatch path",
		env:     base(map[string]string{"JUJU_DISPATCH_PATH": "dispatch"}),
		wantErr: `invalid JUJU_DISPATCH_PATH "dispatch"`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hooks.NewContext(env(tt.env))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Regexp(t, "^cannot read hook context: ", err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.action, got.IsAction())
			assert.Equal(t, tt.event, got.Event())
		})
	}
}
