package exporter

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func serve(t *testing.T, e *Exporter) string {
	t.Helper()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/plain; version=0.0.4; charset=utf-8", resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

func writeConfig(t *testing.T, path string, c Config) {
	t.Helper()
	data, err := c.Marshal()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o644))
}

// A standby unit reads its config every round: the charm's rewrite (a new leader, the migration
// started) shows at the next round without a restart, and a file caught half-written does not
// blank the page.
func TestRoundFollowsTheConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mm2-exporter.json")
	var logged []string
	e := &Exporter{ConfigPath: path, Logf: func(f string, a ...any) { logged = append(logged, f) }}

	assert.Equal(t, DefaultInterval, e.Round(context.Background()), "no config yet")
	assert.Contains(t, serve(t, e), "mirrormaker_exporter_active 0\n", "measures nothing before the charm wrote the config")
	assert.NotEmpty(t, logged)

	writeConfig(t, path, Config{Mirroring: true, IntervalSeconds: 7})
	assert.Equal(t, 7*time.Second, e.Round(context.Background()))
	page := serve(t, e)
	assert.Contains(t, page, "mirrormaker_exporter_active 0\n")
	assert.Contains(t, page, "mirrormaker_mirroring 1\n")

	require.NoError(t, os.WriteFile(path, []byte(`{"mirroring": fal`), 0o644))
	assert.Equal(t, 7*time.Second, e.Round(context.Background()))
	assert.Equal(t, page, serve(t, e), "measured as last configured")

	writeConfig(t, path, Config{})
	e.Round(context.Background())
	assert.Contains(t, serve(t, e), "mirrormaker_mirroring 0\n")
}

// The passwords come from MM2's secrets file, by cluster alias; a config naming a cluster but no
// readable secrets file is an error, never a login without a password.
func TestLoadReadsPasswordsFromTheSecretsFile(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "mm2-secrets.properties")
	require.NoError(t, os.WriteFile(secrets, []byte("old.sasl.jaas.config=x\nold.password=p\\u00e4ss\\=1\nnew.password=\\ lead\n"), 0o600))
	path := filepath.Join(dir, "mm2-exporter.json")
	writeConfig(t, path, Config{Active: true, SecretsPath: secrets,
		Source: &Cluster{Alias: "old", BootstrapServers: []string{"a:9092"}, Username: "u1"},
		Target: &Cluster{Alias: "new", BootstrapServers: []string{"b:9092"}, Username: "u2"}})
	s, err := load(path)
	require.NoError(t, err)
	assert.Equal(t, "päss=1", s.source.Password)
	assert.Equal(t, "u1", s.source.Username)
	assert.Equal(t, " lead", s.target.Password)

	require.NoError(t, os.WriteFile(secrets, []byte("old.password=p\n"), 0o600))
	_, err = load(path)
	assert.ErrorContains(t, err, `cannot read the password of cluster "new": the secrets file has none`)

	require.NoError(t, os.Remove(secrets))
	_, err = load(path)
	assert.ErrorContains(t, err, "cannot read passwords")
}
