package hooks_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks"
)

// fakeTools puts shell scripts named like hook tools first on PATH.
func fakeTools(t *testing.T, scripts map[string]string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range scripts {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755))
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func TestExecRunner(t *testing.T) {
	fakeTools(t, map[string]string{
		"relation-set": `cat; echo " args:$*"` + "\n",
		"relation-get": `echo 'ERROR invalid value "source:9" for option -r: relation not found' >&2; exit 1` + "\n",
		"is-leader":    "exit 4\n",
	})
	ctx := context.Background()
	var r hooks.ExecRunner

	out, err := r.Run(ctx, "relation-set", []string{"-r", "source:3", "--file", "-"}, []byte(`{"password":"s3cret"}`))
	require.NoError(t, err)
	assert.Equal(t, `{"password":"s3cret"} args:-r source:3 --file -`+"\n", string(out))

	_, err = r.Run(ctx, "relation-get", []string{"-r", "source:9"}, []byte("stdin-secret"))
	var te *hooks.ToolError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, hooks.ToolError{
		Tool: "relation-get", Args: []string{"-r", "source:9"},
		Stderr: `ERROR invalid value "source:9" for option -r: relation not found` + "\n", ExitCode: 1,
	}, *te)
	assert.True(t, errors.Is(err, hooks.ErrRelationNotFound))
	assert.NotContains(t, err.Error(), "stdin-secret")

	_, err = r.Run(ctx, "is-leader", nil, nil)
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 4, te.ExitCode)

	_, err = r.Run(ctx, "no-such-hook-tool", nil, nil)
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 127, te.ExitCode)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = r.Run(cancelled, "is-leader", nil, nil)
	assert.ErrorIs(t, err, context.Canceled)
}
