package hookstest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks/hookstest"
)

func TestExecSecretGetTracksRevisions(t *testing.T) {
	m, uri := world(t)
	get := func(unit string, args ...string) result {
		return run(m, unit, "secret-get", "", append([]string{"--format=json"}, args...)...)
	}
	rev1 := ok(`{"password":"p1","username":"relation-1"}` + "\n")
	rev2 := ok(`{"password":"p2","username":"relation-1"}` + "\n")

	assert.Equal(t, rev1, get("mm/0", uri), "first read pins the latest revision")
	require.NoError(t, m.UpdateSecret(uri, map[string]string{"username": "relation-1", "password": "p2"}))
	assert.Equal(t, rev1, get("mm/0", uri), "without --refresh the unit keeps its revision")
	assert.Equal(t, rev2, get("mm/1", uri), "a unit that never read gets the latest")
	assert.Equal(t, rev2, get("mm/0", uri, "--peek"), "--peek shows the latest")
	assert.Equal(t, rev1, get("mm/0", uri), "... without moving the unit")
	assert.Equal(t, rev2, get("mm/0", "--refresh", uri), "--refresh moves the unit")
	assert.Equal(t, rev2, get("mm/0", uri))
	assert.Equal(t, 2, m.Secrets[uri].Seen["mm/0"])

	assert.Equal(t, rev2, get("mm/2", "--label", "source-user"), "found by label")
	assert.Equal(t, ok(`"p2"`+"\n"), get("mm/2", uri, "password"), "one key")
	id := uri[len("secret:"):]
	assert.Equal(t, rev2, get("mm/2", id), "bare id")
	assert.Equal(t, rev2, get("mm/2", "secret://"+m.ModelUUID+"/"+id), "full URI with model")

	assert.Equal(t, fail(1, `secret "d5l8k5ngmtv2r0ekpemg" not found`), get("mm/0", "secret:d5l8k5ngmtv2r0ekpemg"))
	assert.Equal(t, fail(1, `secret "nope" not found`), get("mm/0", "--label", "nope"))
	assert.Equal(t, fail(2, "require either a secret URI or label"), get("mm/0"))
	assert.Equal(t, fail(2, "specify one of --peek or --refresh but not both"), get("mm/0", uri, "--peek", "--refresh"))

	assert.Same(t, m.Secrets[uri], m.Secret(id))
	assert.Same(t, m.Secrets[uri], m.Secret("secret://"+m.ModelUUID+"/"+id))
	assert.Nil(t, m.Secret("secret:nope"))
	m.Secret(uri).Denied = true
	assert.Equal(t, fail(1, "permission denied"), get("mm/0", uri))
	assert.Error(t, m.UpdateSecret("secret:nope", nil))
}

func TestAddSecretIDs(t *testing.T) {
	a, b := hookstest.NewModel("mm", 1), hookstest.NewModel("mm", 1)
	u1, u2 := a.AddSecret(nil), a.AddSecret(nil)
	assert.Regexp(t, `^secret:[0-9a-v]{20}$`, u1)
	assert.NotEqual(t, u1, u2)
	assert.Equal(t, u1, b.AddSecret(nil), "ids repeat from run to run")
}

// TestSecretKeysAsJuju holds secret content to Juju's key rule
// (core/secrets: ^([a-z](?:-?[a-z0-9]){2,})$), refused with Juju's words.
func TestSecretKeysAsJuju(t *testing.T) {
	tests := []struct {
		key  string
		want string // "" for valid
	}{
		{"tls-ca", ""},
		{"username", ""},
		{"abc", ""},
		{"a1b", ""},
		{"ca", `key "ca" not valid`},
		{"tls_ca", `key "tls_ca" not valid`},
		{"TLS", `key "TLS" not valid`},
		{"1ab", `key "1ab" not valid`},
		{"tls--ca", `key "tls--ca" not valid`},
		{"tls-", `key "tls-" not valid`},
		{"a.bc", `key "a.bc" not valid`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			m := hookstest.NewModel("mm", 1)
			uri, err := m.CreateSecret(map[string]string{tt.key: "v", "password": "p"})
			if tt.want == "" {
				require.NoError(t, err)
				require.NoError(t, m.UpdateSecret(uri, map[string]string{tt.key: "w"}))
				return
			}
			assert.EqualError(t, err, tt.want)
			assert.Empty(t, uri)
			assert.Empty(t, m.Secrets, "nothing stored")
			assert.PanicsWithValue(t, "hookstest: cannot add secret: "+tt.want, func() { m.AddSecret(map[string]string{tt.key: "v"}) })
			ok := m.AddSecret(map[string]string{"password": "p"})
			assert.EqualError(t, m.UpdateSecret(ok, map[string]string{tt.key: "w"}), tt.want)
			assert.Equal(t, 1, m.Secret(ok).Revision())
		})
	}
}

func TestExecStatus(t *testing.T) {
	m, _ := world(t)
	assert.Equal(t, ok(""), run(m, "mm/1", "status-set", "", "maintenance", "--", "-starting"))
	assert.Equal(t, ok(""), run(m, "mm/1", "status-set", "", "active", "--", ""))
	assert.Equal(t, ok(""), run(m, "mm/0", "status-set", "", "--application", "blocked", "--", "source not related"))
	assert.Equal(t, fail(1, "this unit is not the leader"), run(m, "mm/1", "status-set", "", "--application", "active", "--", "x"))
	assert.Equal(t, fail(2, `invalid status "error", expected one of [maintenance blocked waiting active]`),
		run(m, "mm/1", "status-set", "", "error", "--", "x"))

	assert.Equal(t, hookstest.Status{Name: "active"}, m.StatusOf("mm/1"))
	assert.Equal(t, hookstest.Status{Name: "blocked", Message: "source not related"}, m.AppStatus)
	assert.Equal(t, []hookstest.Status{{Name: "maintenance", Message: "-starting"}, {Name: "active"}}, m.StatusesOf("mm/1"))
	assert.Equal(t, []hookstest.Status{{Name: "blocked", Message: "source not related"}}, m.StatusesOf("mm"))

	got := run(m, "mm/0", "status-get", "", "--format=json", "--application", "--include-data")
	require.Zero(t, got.code, got.stderr)
	assert.Contains(t, got.stdout, `"status":"blocked"`)
	assert.Equal(t, fail(1, "finding application status: this unit is not the leader"),
		run(m, "mm/1", "status-get", "", "--format=json", "--application=true"))

	assert.Equal(t, ok(""), run(m, "mm/2", "application-version-set", "", "--", "3.9.1"))
	assert.Equal(t, "3.9.1", m.Version)
	assert.Equal(t, ok(""), run(m, "mm/2", "juju-log", "", "--log-level", "WARNING", "--", "-lag", "high"))
	assert.Equal(t, ok(""), run(m, "mm/2", "juju-log", "", "plain"))
	assert.Equal(t, []hookstest.LogEntry{{Unit: "mm/2", Level: "WARNING", Message: "-lag high"}, {Unit: "mm/2", Level: "INFO", Message: "plain"}}, m.Logs)
}

func TestExecAction(t *testing.T) {
	m, _ := world(t)
	assert.Equal(t, fail(1, "not running an action"), run(m, "mm/0", "action-get", "", "--format=json"))

	a := m.StartAction("mm/0", "cutover", map[string]any{"phase": "consumers", "opts": map[string]any{"dry-run": true}})
	assert.Equal(t, ok(`{"opts":{"dry-run":true},"phase":"consumers"}`+"\n"), run(m, "mm/0", "action-get", "", "--format=json"))
	assert.Equal(t, ok("true\n"), run(m, "mm/0", "action-get", "", "--format=json", "opts.dry-run"))
	assert.Equal(t, fail(1, "not running an action"), run(m, "mm/1", "action-get", "", "--format=json"), "only on its unit")

	assert.Equal(t, ok(""), run(m, "mm/0", "action-set", "", "lag=0", "groups.synced=3"))
	for _, tt := range []struct{ arg, err string }{
		{"Lag=1", `key "Lag" must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods`},
		{"a.b_c=1", `key "b_c" must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods`},
		{"stdout=1", `cannot set reserved action key "stdout"`},
		{"novalue", `argument "novalue" must be of the form key...=value`},
	} {
		assert.Equal(t, fail(2, tt.err), run(m, "mm/0", "action-set", "", "ok=1", tt.arg), tt.arg)
	}
	assert.Equal(t, map[string]string{"lag": "0", "groups.synced": "3"}, a.Results, "a bad key sets nothing")

	assert.Equal(t, ok(""), run(m, "mm/0", "action-log", "", "--", "waiting for lag 0"))
	assert.Equal(t, ok(""), run(m, "mm/0", "action-fail", "", "--", "lag is 12"))
	assert.Equal(t, []string{"waiting for lag 0"}, a.Logs)
	assert.True(t, a.Failed)
	assert.Equal(t, "lag is 12", a.FailMessage)

	m.FinishAction()
	assert.Equal(t, fail(1, "not running an action"), run(m, "mm/0", "action-set", "", "a=1"))
	assert.Equal(t, "1", a.UUID)
}

func TestExecStateAndPorts(t *testing.T) {
	m, _ := world(t)
	assert.Equal(t, ok(""), run(m, "mm/1", "state-set", `{"hash":"abc","gone":""}`, "--file", "-"))
	assert.Equal(t, ok(""), run(m, "mm/1", "state-set", "", "n=1"))
	assert.Equal(t, ok(`{"hash":"abc","n":"1"}`+"\n"), run(m, "mm/1", "state-get", "", "--format=json"))
	assert.Equal(t, ok(`"abc"`+"\n"), run(m, "mm/1", "state-get", "", "--format=json", "hash"))
	assert.Equal(t, fail(1, `"x" not found`), run(m, "mm/1", "state-get", "", "--format=json", "--strict", "x"))
	assert.Equal(t, ok(""), run(m, "mm/1", "state-delete", "", "n"))
	assert.Equal(t, map[string]string{"hash": "abc"}, m.State["mm/1"])
	assert.Equal(t, ok("null\n"), run(m, "mm/0", "state-get", "", "--format=json"), "state is per unit")

	assert.Equal(t, ok(""), run(m, "mm/1", "open-port", "", "9404/tcp"))
	assert.Equal(t, ok(""), run(m, "mm/1", "open-port", "", "8083"))
	assert.Equal(t, ok(""), run(m, "mm/1", "open-port", "", "8083/tcp"))
	assert.Equal(t, ok(`["8083/tcp","9404/tcp"]`+"\n"), run(m, "mm/1", "opened-ports", "", "--format=json"))
	assert.Equal(t, ok(""), run(m, "mm/1", "close-port", "", "8083/tcp"))
	assert.Equal(t, []string{"9404/tcp"}, m.Ports["mm/1"])
	assert.Equal(t, fail(2, `invalid port or range "http"`), run(m, "mm/1", "open-port", "", "http"))
}
