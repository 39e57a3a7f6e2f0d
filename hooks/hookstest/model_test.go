package hookstest_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks"
	"mirrormaker-k8s/hooks/hookstest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

func TestNewModel(t *testing.T) {
	m := hookstest.NewModel("mm", 2)
	assert.Equal(t, []string{"mm/0", "mm/1"}, m.Units)
	assert.Equal(t, "mm/0", m.Leader)
	peer := m.PeerRelation()
	require.NotNil(t, peer)
	assert.Equal(t, "cluster:0", peer.RelationID())
	assert.True(t, peer.IsPeer("mm"))
	r := m.AddRelation("target", "kafka-k8s", "kafka-k8s/0")
	assert.Equal(t, "target:1", r.RelationID())
	assert.Same(t, r, m.Relation(1))
	assert.Nil(t, m.Relation(7))
	assert.Error(t, m.SetRemoteAppData(7, nil))
	assert.Error(t, m.SetRemoteUnitData(7, "x/0", nil))
	m.RemoveRelation(1)
	assert.Nil(t, m.Relation(1))
	assert.Equal(t, "target:2", m.AddRelation("target", "kafka-k8s").RelationID(), "ids are never reused")
}

// TestModelJSON pins the on-disk form the simulator keeps, and checks that
// a model read back behaves as the one written.
func TestModelJSON(t *testing.T) {
	m, uri := world(t)
	m.StartAction("mm/0", "start-migration", map[string]any{"dry-run": false})
	require.Zero(t, run(m, "mm/0", "secret-get", "", uri).code)
	require.Zero(t, run(m, "mm/0", "status-set", "", "active", "--", "replicating").code)
	require.Zero(t, run(m, "mm/0", "juju-log", "", "hello").code)
	require.Zero(t, run(m, "mm/0", "action-set", "", "started=true").code)

	b, err := json.MarshalIndent(m, "", "  ")
	require.NoError(t, err)
	golden(t, "model.json", append(b, '\n'))

	var back hookstest.Model
	require.NoError(t, json.Unmarshal(b, &back))
	b2, err := json.MarshalIndent(&back, "", "  ")
	require.NoError(t, err)
	assert.Equal(t, string(b), string(b2))

	assert.Equal(t, run(m, "mm/1", "relation-get", "", "--format=json", "-r", "source:1", "--app", "-", "kafka"),
		run(&back, "mm/1", "relation-get", "", "--format=json", "-r", "source:1", "--app", "-", "kafka"))
	assert.Equal(t, ok(`{"dry-run":false}`+"\n"), run(&back, "mm/0", "action-get", "", "--format=json"))
	assert.Equal(t, "source:2", back.AddRelation("source", "k").RelationID())
}

func TestRunner(t *testing.T) {
	m, uri := world(t)
	ctx := context.Background()
	leader, other := hooks.NewTools(m.Runner("mm/0")), hooks.NewTools(m.Runner("mm/1"))

	require.NoError(t, leader.RelationSet(ctx, "cluster:0", true, map[string]string{"migration": "cutover"}))
	got, err := other.RelationGet(ctx, "cluster:0", "mm", true)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"migration": "cutover"}, got)

	err = other.RelationSet(ctx, "cluster:0", true, map[string]string{"password": "s3cret"})
	assert.ErrorIs(t, err, hooks.ErrNotLeader)
	assert.NotContains(t, err.Error(), "s3cret")
	var te *hooks.ToolError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, hooks.ToolError{Tool: "relation-set", Args: []string{"-r", "cluster:0", "--app", "--file", "-"},
		Stderr: "ERROR cannot write relation settings\n", ExitCode: 1}, *te)

	_, err = other.RelationUnits(ctx, "source:9")
	assert.ErrorIs(t, err, hooks.ErrRelationNotFound)
	_, err = other.SecretGet(ctx, "secret:d5l8k5ngmtv2r0ekpemg", true)
	assert.ErrorIs(t, err, hooks.ErrSecretNotFound)
	content, err := other.SecretGet(ctx, uri, true)
	require.NoError(t, err)
	assert.Equal(t, "p1", content["password"])
	_, err = other.RelationGet(ctx, "source:1", "mm", true)
	assert.ErrorIs(t, err, hooks.ErrPermissionDenied)
	assert.ErrorIs(t, other.StatusSet(ctx, hooks.Status{Name: hooks.StatusActive}, true), hooks.ErrNotLeader)

	isLeader, err := leader.IsLeader(ctx)
	require.NoError(t, err)
	assert.True(t, isLeader)
	addr, err := other.BindAddress(ctx, "cluster")
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.12", addr)
	st, err := other.StateGet(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{}, st)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = leader.IsLeader(cancelled)
	assert.True(t, errors.Is(err, context.Canceled))
}
