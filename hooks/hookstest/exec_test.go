package hookstest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks/hookstest"
)

// world is the model most Exec tests start from: three units, mm/0
// leading, a peer relation (cluster:0), a source relation (source:1) to
// kafka with two units and some data on both sides, and one secret.
func world(t *testing.T) (*hookstest.Model, string) {
	t.Helper()
	m := hookstest.NewModel("mm", 3)
	m.Config = map[string]any{"tasks-max": 4, "topics": ".*", "unset": nil}
	peer := m.PeerRelation()
	peer.Bag("mm")["migration"] = "started"
	peer.Bag("mm/1")["address"] = "127.0.0.12"
	src := m.AddRelation("source", "kafka", "kafka/0", "kafka/1")
	require.NoError(t, m.SetRemoteAppData(src.ID, map[string]string{"endpoints": "127.0.0.1:9092", "secret-user": "secret:x"}))
	require.NoError(t, m.SetRemoteUnitData(src.ID, "kafka/0", map[string]string{"ingress-address": "127.0.0.1"}))
	src.Bag("mm")["topic"] = "__mirrormaker-user"
	uri := m.AddSecret(map[string]string{"username": "relation-1", "password": "p1"})
	m.Secrets[uri].Label = "source-user"
	return m, uri
}

type result struct {
	stdout, stderr string
	code           int
}

func run(m *hookstest.Model, unit, tool, stdin string, args ...string) result {
	var in []byte
	if stdin != "" {
		in = []byte(stdin)
	}
	out, errOut, code := m.Exec(unit, tool, args, in)
	return result{string(out), string(errOut), code}
}

func ok(stdout string) result { return result{stdout: stdout} }
func fail(code int, msg string) result {
	return result{stderr: "ERROR " + msg + "\n", code: code}
}

func TestExecReads(t *testing.T) {
	tests := []struct {
		name string
		unit string
		tool string
		args []string
		want result
	}{
		{"config-get", "mm/1", "config-get", []string{"--format=json"}, ok(`{"tasks-max":4,"topics":".*"}` + "\n")},
		{"config-get --all", "mm/1", "config-get", []string{"--format=json", "--all"}, ok(`{"tasks-max":4,"topics":".*","unset":null}` + "\n")},
		{"config-get key", "mm/1", "config-get", []string{"--format=json", "tasks-max"}, ok("4\n")},
		{"config-get missing key", "mm/1", "config-get", []string{"--format=json", "nope"}, ok("null\n")},
		{"is-leader leader", "mm/0", "is-leader", []string{"--format=json"}, ok("true\n")},
		{"is-leader other", "mm/2", "is-leader", []string{"--format=json"}, ok("false\n")},
		{"is-leader smart", "mm/0", "is-leader", nil, ok("True\n")},
		{"relation-ids peer", "mm/1", "relation-ids", []string{"--format=json", "cluster"}, ok(`["cluster:0"]` + "\n")},
		{"relation-ids flags after", "mm/1", "relation-ids", []string{"source", "--format=json"}, ok(`["source:1"]` + "\n")},
		{"relation-ids none", "mm/1", "relation-ids", []string{"--format=json", "target"}, ok("[]\n")},
		{"relation-ids no endpoint", "mm/1", "relation-ids", []string{"--format=json"}, fail(2, "no endpoint name specified")},
		{"relation-list peer is the other units", "mm/1", "relation-list", []string{"--format=json", "-r", "cluster:0"}, ok(`["mm/0","mm/2"]` + "\n")},
		{"relation-list remote", "mm/1", "relation-list", []string{"--format=json", "-r", "source:1"}, ok(`["kafka/0","kafka/1"]` + "\n")},
		{"relation-list bare id", "mm/1", "relation-list", []string{"--format=json", "-r", "1"}, ok(`["kafka/0","kafka/1"]` + "\n")},
		{"relation-list --app", "mm/1", "relation-list", []string{"--format=json", "-r", "source:1", "--app"}, ok(`"kafka"` + "\n")},
		{"relation-list --relation=", "mm/1", "relation-list", []string{"--format=json", "--relation=source:1", "--app"}, ok(`"kafka"` + "\n")},
		{"relation-list unknown", "mm/1", "relation-list", []string{"--format=json", "-r", "source:9"},
			fail(2, `invalid value "source:9" for option -r: relation not found`)},
		{"relation-list wrong endpoint", "mm/1", "relation-list", []string{"--format=json", "-r", "target:1"},
			fail(2, `invalid value "target:1" for option -r: relation not found`)},
		{"relation-get remote app", "mm/2", "relation-get", []string{"--format=json", "-r", "source:1", "--app", "-", "kafka"},
			ok(`{"endpoints":"127.0.0.1:9092","secret-user":"secret:x"}` + "\n")},
		{"relation-get remote app via unit", "mm/2", "relation-get", []string{"--format=json", "-r", "source:1", "--app", "-", "kafka/1"},
			ok(`{"endpoints":"127.0.0.1:9092","secret-user":"secret:x"}` + "\n")},
		{"relation-get one key", "mm/2", "relation-get", []string{"--format=json", "-r", "source:1", "--app", "endpoints", "kafka"},
			ok(`"127.0.0.1:9092"` + "\n")},
		{"relation-get remote unit", "mm/2", "relation-get", []string{"--format=json", "-r", "source:1", "-", "kafka/0"},
			ok(`{"ingress-address":"127.0.0.1"}` + "\n")},
		{"relation-get empty remote unit", "mm/2", "relation-get", []string{"--format=json", "-r", "source:1", "-", "kafka/1"}, ok("{}\n")},
		{"relation-get own app as leader", "mm/0", "relation-get", []string{"--format=json", "-r", "source:1", "--app", "-", "mm"},
			ok(`{"topic":"__mirrormaker-user"}` + "\n")},
		{"relation-get own app as non-leader", "mm/1", "relation-get", []string{"--format=json", "-r", "source:1", "--app", "-", "mm"},
			fail(1, "permission denied")},
		{"relation-get peer app as non-leader", "mm/1", "relation-get", []string{"--format=json", "-r", "cluster:0", "--app", "-", "mm"},
			ok(`{"migration":"started"}` + "\n")},
		{"relation-get peer unit", "mm/2", "relation-get", []string{"--format=json", "-r", "cluster:0", "-", "mm/1"},
			ok(`{"address":"127.0.0.12"}` + "\n")},
		{"relation-get foreign app", "mm/0", "relation-get", []string{"--format=json", "-r", "source:1", "--app", "-", "other"},
			fail(1, "permission denied")},
		{"relation-get unknown unit", "mm/0", "relation-get", []string{"--format=json", "-r", "source:1", "-", "kafka/7"},
			fail(1, `cannot read settings for unit "kafka/7" in relation "source:1": settings not found`)},
		{"relation-get no member", "mm/0", "relation-get", []string{"--format=json", "-r", "source:1", "-"},
			fail(2, "no unit or application specified")},
		{"relation-get unknown relation", "mm/0", "relation-get", []string{"--format=json", "-r", "source:9", "-", "kafka"},
			fail(2, `invalid value "source:9" for option -r: relation not found`)},
		{"relation-get no relation", "mm/0", "relation-get", []string{"--format=json", "-", "kafka"}, fail(2, "no relation id specified")},
		{"network-get bind address", "mm/2", "network-get", []string{"cluster", "--bind-address", "--format=json"}, ok(`"127.0.0.13"` + "\n")},
		{"network-get two keys", "mm/0", "network-get", []string{"cluster", "--bind-address", "--ingress-address", "--format=json"},
			ok(`{"bind-address":"127.0.0.11","ingress-address":"127.0.0.11"}` + "\n")},
		{"state-get empty is null", "mm/0", "state-get", []string{"--format=json"}, ok("null\n")},
		{"unknown tool", "mm/0", "leader-set", nil, result{stderr: "leader-set: command not found\n", code: 127}},
		{"unknown flag", "mm/0", "is-leader", []string{"--bogus"}, fail(2, "option provided but not defined: --bogus")},
		{"flag without value", "mm/0", "relation-list", []string{"-r"}, fail(2, "option needs an argument: -r")},
		{"extra args", "mm/0", "is-leader", []string{"x"}, fail(2, `unrecognized args: ["x"]`)},
		{"bad format", "mm/0", "is-leader", []string{"--format=xml"}, fail(2, `invalid value "xml" for option --format: unknown format "xml"`)},
		{"unknown unit", "other/0", "is-leader", nil, fail(1, `unit "other/0" not found`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := world(t)
			assert.Equal(t, tt.want, run(m, tt.unit, tt.tool, "", tt.args...))
		})
	}
}

func TestExecNetworkGetFull(t *testing.T) {
	m, _ := world(t)
	got := run(m, "mm/0", "network-get", "", "cluster", "--format=json")
	require.Zero(t, got.code, got.stderr)
	assert.JSONEq(t, `{
		"bind-addresses": [{"mac-address": "", "interface-name": "eth0", "macaddress": "", "interfacename": "eth0",
			"addresses": [{"hostname": "", "value": "127.0.0.11", "cidr": "127.0.0.11/32", "address": "127.0.0.11"}]}],
		"egress-subnets": ["127.0.0.11/32"], "ingress-addresses": ["127.0.0.11"]}`, got.stdout)
}

func TestExecRelationSet(t *testing.T) {
	tests := []struct {
		name    string
		unit    string
		args    []string
		stdin   string
		want    result
		bag     string
		wantBag map[string]string
	}{{
		name: "leader writes the app bag from stdin", unit: "mm/0",
		args: []string{"-r", "source:1", "--app", "--file", "-"}, stdin: `{"extra-user-roles":"admin","topic":""}`,
		bag: "mm", wantBag: map[string]string{"extra-user-roles": "admin"},
	}, {
		name: "non-leader cannot write the app bag", unit: "mm/1",
		args: []string{"-r", "source:1", "--app", "--file", "-"}, stdin: `{"extra-user-roles":"admin"}`,
		want: fail(1, "cannot write relation settings"),
		bag:  "mm", wantBag: map[string]string{"topic": "__mirrormaker-user"},
	}, {
		name: "non-leader cannot write the peer app bag", unit: "mm/2",
		args: []string{"-r", "cluster:0", "--app", "--file", "-"}, stdin: `{"migration":"done"}`,
		want: fail(1, "cannot write relation settings"),
		bag:  "mm", wantBag: map[string]string{"migration": "started"},
	}, {
		name: "any unit writes its own bag; args override the file", unit: "mm/1",
		args: []string{"-r", "cluster:0", "--file", "-", "b=2", "address="}, stdin: `{"a":"1","b":"1"}`,
		bag: "mm/1", wantBag: map[string]string{"a": "1", "b": "2"},
	}, {
		name: "unknown relation", unit: "mm/0",
		args: []string{"-r", "target:5", "--file", "-"}, stdin: `{"a":"1"}`,
		want: fail(2, `invalid value "target:5" for option -r: relation not found`),
	}, {
		name: "bad stdin", unit: "mm/0",
		args: []string{"-r", "cluster:0", "--file", "-"}, stdin: `not json`,
		want: fail(1, "cannot parse settings: expected a map of strings"),
	}, {
		name: "bad argument", unit: "mm/0",
		args: []string{"-r", "cluster:0", "novalue"},
		want: fail(2, `expected "key=value", got "novalue"`),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := world(t)
			assert.Equal(t, tt.want, run(m, tt.unit, "relation-set", tt.stdin, tt.args...))
			if tt.bag != "" {
				var rel *hookstest.Relation
				if tt.args[1] == "cluster:0" {
					rel = m.PeerRelation()
				} else {
					rel = m.Relation(1)
				}
				assert.Equal(t, tt.wantBag, rel.Data[tt.bag])
			}
		})
	}
}

func TestExecBrokenRelation(t *testing.T) {
	m, _ := world(t)
	m.Relation(1).Broken = true
	assert.Equal(t, ok(`["source:1"]`+"\n"), run(m, "mm/0", "relation-ids", "", "--format=json", "source"), "still listed while broken")
	assert.Equal(t, ok("[]\n"), run(m, "mm/0", "relation-list", "", "--format=json", "-r", "source:1"))
	assert.Equal(t, ok(`"kafka"`+"\n"), run(m, "mm/0", "relation-list", "", "--format=json", "-r", "source:1", "--app"))
	assert.Equal(t, fail(1, "permission denied"), run(m, "mm/0", "relation-get", "", "--format=json", "-r", "source:1", "--app", "-", "kafka"))
	assert.Equal(t, ok(`{"topic":"__mirrormaker-user"}`+"\n"), run(m, "mm/0", "relation-get", "", "--format=json", "-r", "source:1", "--app", "-", "mm"))
	m.RemoveRelation(1)
	assert.Equal(t, ok("[]\n"), run(m, "mm/0", "relation-ids", "", "--format=json", "source"))
}
