package hookstest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks"
	"mirrormaker-k8s/hooks/hookstest"
)

// TestValidate holds invocations to Juju's grammar: gnuflag's option forms
// and each command's Init (worker/uniter/runner/jujuc).
func TestValidate(t *testing.T) {
	tests := []struct {
		tool string
		args []string
		want string // "" when Juju accepts it
	}{
		{"config-get", []string{"--format=json"}, ""},
		{"config-get", []string{"--format", "json", "-a"}, ""},
		{"config-get", []string{"-format=json"}, "option provided but not defined: -f"},
		{"config-get", []string{"--format=xml"}, `invalid value "xml" for option --format: unknown format "xml"`},
		{"config-get", []string{"a", "b"}, `unrecognized args: ["b"]`},
		{"is-leader", []string{"--format=json"}, ""},
		{"is-leader", []string{"--app"}, "option provided but not defined: --app"},
		{"relation-list", []string{"--format=json", "-r", "source:3", "--app"}, ""},
		{"relation-list", []string{"-rsource:3"}, ""},
		{"relation-list", []string{"--relation=3"}, ""},
		{"relation-list", []string{"-r", "source"}, `invalid value "source" for option -r: invalid relation id`},
		{"relation-list", []string{"-r"}, "option needs an argument: -r"},
		{"relation-get", []string{"--format=json", "-r", "source:3", "--app", "-", "kafka"}, ""},
		{"relation-get", []string{"-r", "source:3", "-", "kafka", "extra"}, `unrecognized args: ["extra"]`},
		{"relation-get", []string{"--app=false", "-r", "1", "-", "kafka/0"}, ""},
		{"relation-get", []string{"--app=maybe", "-r", "1"}, `invalid value "maybe" for option --app: strconv.ParseBool: parsing "maybe": invalid syntax`},
		{"relation-set", []string{"-r", "source:3", "--app", "--file", "-"}, ""},
		{"relation-set", []string{"-r", "source:3", "novalue"}, `expected "key=value", got "novalue"`},
		{"secret-get", []string{"--format=json", "--refresh", "secret:d5l8k5ngmtv2r0ekpemg"}, ""},
		{"secret-get", []string{"--format=yaml", "d5l8k5ngmtv2r0ekpemg", "password"}, ""},
		{"secret-get", []string{"secret://8b1b5f6e-2c1d-4b8a-9d6a-3f2e1c0b9a87/d5l8k5ngmtv2r0ekpemg"}, ""},
		{"secret-get", []string{"--label", "source-user"}, ""},
		{"secret-get", []string{"--refresh", "--peek", "secret:d5l8k5ngmtv2r0ekpemg"}, "specify one of --peek or --refresh but not both"},
		{"secret-get", []string{"--format=smart", "secret:d5l8k5ngmtv2r0ekpemg"}, `invalid value "smart" for option --format: unknown format "smart"`},
		{"secret-get", []string{"secret:nope"}, `secret URI "secret:nope" not valid`},
		{"secret-get", []string{"secret:D5L8K5NGMTV2R0EKPEMG"}, `secret URI "secret:D5L8K5NGMTV2R0EKPEMG" not valid`},
		{"secret-get", []string{"--format=json"}, "require either a secret URI or label"},
		{"status-set", []string{"blocked", "--", "-source not related"}, ""},
		{"status-set", []string{"--application", "active", "--", ""}, ""},
		{"status-set", []string{"error", "--", "x"}, "invalid status \"error\", expected one of [maintenance blocked waiting active]"},
		{"status-set", []string{"Active"}, "invalid status \"Active\", expected one of [maintenance blocked waiting active]"},
		{"status-set", []string{"active", "a", "b"}, `unrecognized args: ["b"]`},
		{"status-set", []string{"--app", "active"}, "option provided but not defined: --app"},
		{"application-version-set", []string{"--", "3.9.1"}, ""},
		{"application-version-set", nil, "no version specified"},
		{"action-get", []string{"--format=json"}, ""},
		{"action-set", []string{"summary.groups=1", "groups.0.name=billing", "a-b.c1=x=y"}, ""},
		{"action-set", []string{"Summary=1"}, `key "Summary" must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods`},
		{"action-set", []string{"source_records=1"}, `key "source_records" must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods`},
		{"action-set", []string{"a..b=1"}, `key "" must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods`},
		{"action-set", []string{"-a=1"}, "option provided but not defined: -a"},
		{"action-set", []string{"stdout=x"}, `cannot set reserved action key "stdout"`},
		{"action-set", []string{"copy.stderr-encoding=x"}, `cannot set reserved action key "stderr-encoding"`},
		{"action-set", []string{"status"}, `argument "status" must be of the form key...=value`},
		{"action-fail", []string{"--", "-went wrong"}, ""},
		{"action-fail", []string{"a", "b"}, `unrecognized args: ["b"]`},
		{"action-log", []string{"--", "waiting"}, ""},
		{"action-log", nil, "no message specified"},
		{"juju-log", []string{"--log-level", "WARNING", "--", "x"}, ""},
		{"juju-log", []string{"-l", "DEBUG", "x"}, ""},
		{"juju-log", []string{"--log-level"}, "option needs an argument: --log-level"},
		{"network-get", []string{"cluster", "--bind-address", "--format=json"}, ""},
		{"network-get", []string{"--bind-address"}, "no arguments specified"},
		{"open-port", []string{"9404/tcp"}, ""},
		{"open-port", []string{"tcp", "9404"}, "invalid arguments, expected <port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp"},
		{"open-port", []string{"94o4"}, `invalid port or range "94o4"`},
		{"state-get", []string{"--format=json"}, ""},
		{"state-set", []string{"--file", "-"}, ""},
		{"state-delete", []string{"sample"}, ""},
		{"state-delete", nil, "invalid args, require <key>"},
		{"leader-set", []string{"a=b"}, "leader-set: not a hook tool"},
	}
	for _, tt := range tests {
		t.Run(tt.tool+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			err := hookstest.Validate(tt.tool, tt.args)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.EqualError(t, err, tt.want)
		})
	}
}

// TestActionSetMergesLikeJuju: Juju adds every action-set call to one result
// map and nests dotted keys, so a value in the way of a deeper key becomes a
// map and a value set over a map replaces it (addValueToMap).
func TestActionSetMergesLikeJuju(t *testing.T) {
	m := hookstest.NewModel("mm", 1)
	a := m.StartAction("mm/0", "cutover", nil)
	for _, args := range [][]string{
		{"groups.0.name=billing", "status=first"},
		{"groups.1.name=audit", "status=second"},
		{"summary=flat"},
		{"summary.groups=2", "summary.partitions=4"},
		{"old.a=1", "old.b=2"},
		{"old=gone"},
	} {
		assert.Equal(t, ok(""), run(m, "mm/0", "action-set", "", args...))
	}
	assert.Equal(t, map[string]string{
		"groups.0.name": "billing", "groups.1.name": "audit", "status": "second",
		"summary.groups": "2", "summary.partitions": "4", "old": "gone",
	}, a.Results)
}

// TestRunnerRefusesArgvTheKernelWould: the model's runner stands for exec, so
// an argv past Linux's limits fails as hooks.ExecRunner would report E2BIG.
func TestRunnerRefusesArgvTheKernelWould(t *testing.T) {
	m := hookstest.NewModel("mm", 1)
	m.StartAction("mm/0", "cutover", nil)
	r := m.Runner("mm/0")
	ctx := context.Background()

	var args []string
	for i := 0; i < 25000; i++ { // 25,000 x ~90 bytes: past 2 MiB
		args = append(args, fmt.Sprintf("groups.%d.partitions.0.source-committed=%060d", i, i))
	}
	_, err := r.Run(ctx, "action-set", args, nil)
	var te *hooks.ToolError
	require.True(t, errors.As(err, &te), "%v", err)
	assert.Equal(t, 127, te.ExitCode)
	assert.Equal(t, "cannot run action-set: fork/exec action-set: argument list too long", err.Error())
	assert.Empty(t, m.Action.Results, "nothing set")

	_, err = r.Run(ctx, "action-set", []string{"big=" + strings.Repeat("x", hookstest.MaxArgStrlen)}, nil)
	assert.ErrorContains(t, err, "argument list too long", "one argument past MAX_ARG_STRLEN")

	_, err = r.Run(ctx, "action-set", args[:1000], nil)
	require.NoError(t, err)
	assert.Len(t, m.Action.Results, 1000)
}

// TestStateSetQuota: each state entry is held to Juju's fixed quota, so a
// charm keeping a large sample in state-set learns it in its tests.
func TestStateSetQuota(t *testing.T) {
	m := hookstest.NewModel("mm", 1)
	big := strings.Repeat("x", 64*1024)
	assert.Equal(t, ok(""), run(m, "mm/0", "state-set", `{"sample":"`+big+`"}`, "--file", "-"))
	assert.Equal(t, fail(1, "max allowed value length (65536) exceeded"), run(m, "mm/0", "state-set", `{"sample":"`+big+`x"}`, "--file", "-"))
	assert.Equal(t, fail(1, "max allowed key length (256) exceeded"), run(m, "mm/0", "state-set", "", strings.Repeat("k", 257)+"=v"))
	assert.Equal(t, big, m.State["mm/0"]["sample"], "the refused call changed nothing")
}
