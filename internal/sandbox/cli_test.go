package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/testenv"
	"mirrormaker-k8s/internal/sandbox/pods"
)

// TestGivenCLIWhenVerbsRunAsSeparateProcessesThenPodsOutliveEachCall drives
// the real cmd/sandbox binary: every verb is its own process, as in the demo.
func TestGivenCLIWhenVerbsRunAsSeparateProcessesThenPodsOutliveEachCall(t *testing.T) {
	testenv.RequireRoot(t)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "sandbox")
	out, err := exec.Command("go", "build", "-o", bin, "mirrormaker-k8s/cmd/sandbox").CombinedOutput()
	require.NoError(t, err, string(out))
	env := append(os.Environ(), dirEnv+"="+filepath.Join(tmp, "state"), "CHARM_FILE="+testenv.FakeCharm(t), "PEBBLE_BIN="+testenv.Pebble(t))
	sandbox := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "sandbox %v: %s", args, out)
		return string(out)
	}
	t.Cleanup(func() {
		cmd := exec.Command(bin, "down")
		cmd.Env = env
		_ = cmd.Run()
	})

	assert.Contains(t, sandbox("deploy", "-n", "2", "--config", "tasks-max=2"), "mirrormaker-k8s/1   active")
	pod, err := pods.Attach(filepath.Join(tmp, "state", "juju", "units", "mirrormaker-k8s-0"))
	require.NoError(t, err, "the pod outlives the deploy call")

	assert.Contains(t, sandbox("config"), "tasks-max: 2")
	assert.Contains(t, sandbox("run", "leader", "hello", "name=cli"), "greeting: hello cli")
	assert.Contains(t, sandbox("add-unit"), "mirrormaker-k8s/2   active")
	assert.Contains(t, sandbox("status"), "mirrormaker-k8s/0*")

	sandbox("down")
	assert.Empty(t, pod.Processes())
	assert.NoDirExists(t, filepath.Join(tmp, "state"))
}

// TestSecretContentReadsArgumentsAsJujuAddSecret: "#file" and "#base64" suffixes as Juju's
// CreateSecretData reads them, so the README's `add-secret ... tls-ca#file=ca.pem` works.
func TestSecretContentReadsArgumentsAsJujuAddSecret(t *testing.T) {
	pem := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(pem, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600))
	got, err := secretContent([]string{"username=admin", "password=a=b", "tls-ca#file=" + pem, "token#base64=aGk="})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"username": "admin", "password": "a=b", "tls-ca": "-----BEGIN CERTIFICATE-----\n", "token": "hi"}, got)

	_, err = secretContent([]string{"username"})
	assert.EqualError(t, err, `key value "username" not valid`)
	_, err = secretContent([]string{"tls-ca#file=/nonexistent/ca.pem"})
	assert.ErrorContains(t, err, `reading content for secret key "tls-ca"`)
}
