package charm

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks/hookstest"
	"mirrormaker-k8s/internal/migration"
)

// Fidelity: every hook tool invocation the charm can make is one Juju accepts. The in-memory
// model already refuses what Juju refuses, but a charm may ignore a failed call (juju-log, a
// best-effort status): so every recorded invocation is also held to Juju's grammar
// (hookstest.Validate: gnuflag's option forms, each command's Init, action-set's key rule).

// grammarProblems lists each invocation Juju would refuse, with Juju's reason, and each
// juju-log level Juju would not understand (it logs those at INFO, with a warning).
func grammarProblems(calls []invocation) []string {
	var out []string
	for _, c := range calls {
		err := hookstest.Validate(c.tool, c.args)
		if err == nil && c.tool == "juju-log" {
			err = logLevel(c.args)
		}
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %s %s: %v", c.unit, c.tool, strings.Join(c.args, " "), err))
		}
	}
	return out
}

// logLevel checks juju-log's level against loggo's names.
func logLevel(args []string) error {
	for i, a := range args {
		if a == "--" {
			break
		}
		if (a == "--log-level" || a == "-l") && i+1 < len(args) {
			switch strings.ToUpper(args[i+1]) {
			case "TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "CRITICAL":
			default:
				return fmt.Errorf("log level %q is not one Juju knows", args[i+1])
			}
		}
	}
	return nil
}

// everyEvent drives the charm through every hook metadata.yaml implies and every action of
// actions.yaml, each on the leader and on a non-leader, through a whole migration and back.
func everyEvent(t *testing.T, h *harness) {
	t.Helper()
	leader, other := h.unit(0), h.unit(1)
	peer := h.m.PeerRelation()
	h.everywhere("install", nil)
	h.hook(leader, "leader-elected", nil, "")
	h.hook(other, "leader-settings-changed", nil, "")
	h.everywhere("cluster-relation-created", peer)
	for _, u := range h.m.Units {
		for _, v := range h.m.Units {
			if u != v {
				h.hook(u, "cluster-relation-joined", peer, v)
				h.hook(u, "cluster-relation-changed", peer, v)
			}
		}
	}
	h.everywhere("config-changed", nil)
	h.everywhere("start", nil)
	h.everywhere("mirrormaker-pebble-ready", nil)
	h.everywhere("update-status", nil)

	actions := func(name string, params map[string]any) {
		for _, u := range []string{other, leader} {
			h.action(u, name, params)
		}
	}
	actions("sync-status", nil)
	actions("start-migration", nil) // neither source nor target yet: a failure Juju must accept
	source, target := h.ready()
	h.everywhere("update-status", nil)
	actions("start-migration", map[string]any{"dry-run": true})
	actions("start-migration", nil)
	h.peerChanged()
	h.everywhere("update-status", nil)
	actions("sync-status", nil)
	actions("sync-status", map[string]any{"group": "billing"})

	h.kafka.session = &fakeSession{gates: []migration.Gates{{Groups: []string{"billing"}}}, exact: billingExact(),
		moves: [][]migration.EndMove{nil}, views: []migration.SyncView{lagView(0, 1)}, verify: equalCopy()}
	actions("cutover", map[string]any{"phase": "consumers", "dry-run": true})
	actions("cutover", map[string]any{"phase": "consumers", "groups": "billing", "timeout": "30s"})
	actions("cutover", map[string]any{"phase": "producers", "dry-run": true})
	actions("cutover", map[string]any{"phase": "producers", "keep-mirroring": true, "quiet-period": "2s"})
	actions("cutover", map[string]any{"phase": "sideways"})
	actions("stop-migration", nil)
	h.peerChanged()
	actions("start-migration", nil)
	h.peerChanged()

	uri := source.Data["kafka-old"]["secret-user"]
	require.NoError(t, h.m.UpdateSecret(uri, map[string]string{"username": "relation-9", "password": "rotated-Pa55"}))
	for _, u := range h.m.Units {
		h.hook(u, "secret-changed", nil, "")
		require.NoError(t, h.dispatch(u, h.m.SecretEnv(u, "secret-changed", uri)))
	}
	h.m.Config["tasks-max"] = float64(0)
	h.everywhere("config-changed", nil)
	h.m.Config["tasks-max"] = float64(2)
	h.everywhere("config-changed", nil)
	h.everywhere("upgrade-charm", nil)

	for _, rel := range []*hookstest.Relation{source, target} {
		for _, u := range h.m.Units {
			h.hook(u, rel.Endpoint+"-relation-departed", rel, rel.RemoteApp+"/0")
		}
		rel.Broken = true
		h.everywhere(rel.Endpoint+"-relation-broken", rel)
		h.m.RemoveRelation(rel.ID)
		h.everywhere("update-status", nil)
	}
	actions("sync-status", nil)
	actions("cutover", map[string]any{"phase": "consumers"})
	h.hook(leader, "cluster-relation-departed", peer, other)
	h.everywhere("stop", nil)
	h.everywhere("remove", nil)
}

func TestGivenEveryHookAndActionOnLeaderAndNotThenEveryToolCallIsOneJujuAccepts(t *testing.T) {
	h := newHarness(t, 3)
	everyEvent(t, h)

	assert.Empty(t, grammarProblems(h.calls))
	byTool := map[string]int{}
	for _, c := range h.calls {
		byTool[c.tool]++
		if c.err != nil {
			t.Errorf("%s: %s %s failed in the model: %v", c.unit, c.tool, strings.Join(c.args, " "), c.err)
		}
	}
	var seen []string
	for tool := range byTool {
		seen = append(seen, tool)
	}
	sort.Strings(seen)
	t.Logf("%d invocations of %d tools: %v", len(h.calls), len(seen), byTool)
	for _, tool := range []string{"config-get", "is-leader", "relation-ids", "relation-list", "relation-get", "relation-set",
		"secret-get", "status-set", "application-version-set", "action-get", "action-set", "action-fail", "action-log",
		"network-get"} {
		assert.Contains(t, seen, tool, "the drive must reach every tool the charm uses")
	}
}

// TestGrammarProblemsCatchWhatJujuRefuses: the check fails on invocations Juju would refuse.
func TestGrammarProblemsCatchWhatJujuRefuses(t *testing.T) {
	tests := []struct {
		call invocation
		want string
	}{
		{invocation{"u/0", "action-set", []string{"summary.Groups=1"}, nil},
			`key "Groups" must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods`},
		{invocation{"u/0", "action-set", []string{"source_records=1"}, nil},
			`key "source_records" must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods`},
		{invocation{"u/0", "action-set", []string{"result.stdout=x"}, nil}, `cannot set reserved action key "stdout"`},
		{invocation{"u/0", "status-set", []string{"error", "--", "broken"}, nil}, `invalid status "error", expected one of [maintenance blocked waiting active]`},
		{invocation{"u/0", "status-set", []string{"--app", "active"}, nil}, "option provided but not defined: --app"},
		{invocation{"u/0", "relation-get", []string{"-format=json", "-r", "source:1", "-", "kafka"}, nil}, "option provided but not defined: -f"},
		{invocation{"u/0", "relation-list", []string{"-r", "source"}, nil}, `invalid value "source" for option -r: invalid relation id`},
		{invocation{"u/0", "juju-log", []string{"--log-level", "INFO"}, nil}, "no message specified"},
		{invocation{"u/0", "juju-log", []string{"--log-level", "NOTICE", "--", "x"}, nil}, `log level "NOTICE" is not one Juju knows`},
	}
	for _, tt := range tests {
		t.Run(tt.call.tool+" "+strings.Join(tt.call.args, " "), func(t *testing.T) {
			got := grammarProblems([]invocation{{unit: "u/0", tool: "config-get", args: []string{"--format=json"}}, tt.call})
			require.Len(t, got, 1)
			assert.True(t, strings.HasSuffix(got[0], ": "+tt.want), got[0])
		})
	}
}
