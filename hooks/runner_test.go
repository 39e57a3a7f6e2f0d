package hooks_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// kernelArgMax is the argv and environment bytes Linux lets one exec carry: a
// quarter of the stack limit, capped at 6 MiB (fs/exec.c), so a test may
// exceed it whatever `ulimit -s` says.
func kernelArgMax(t *testing.T) int {
	t.Helper()
	var rl syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_STACK, &rl))
	limit := uint64(6 << 20)
	if rl.Cur/4 < limit {
		limit = rl.Cur / 4
	}
	return int(limit)
}

// TestActionSetSplitsWhatOneExecCannotCarry runs a real action-set stub through
// ExecRunner with results larger than the kernel lets one exec carry: one
// call would fail with E2BIG; split, every key arrives, and no call comes
// near the limits.
func TestActionSetSplitsWhatOneExecCannotCarry(t *testing.T) {
	out := filepath.Join(t.TempDir(), "results")
	fakeTools(t, map[string]string{
		"action-set": `n=0; for a in "$@"; do n=$((n + ${#a} + 9)); done; echo "call $n" >> "` + out + `"; printf '%s\n' "$@" >> "` + out + `"` + "\n",
	})
	limit := kernelArgMax(t)
	value := strings.Repeat("v", 100)
	results := map[string]string{}
	var args []string
	for size, i := 0, 0; size <= limit+256<<10; i++ {
		k := fmt.Sprintf("groups.%d.partitions.%d.source-committed", i/100, i%100)
		results[k] = value
		args = append(args, k+"="+value)
		size += len(k) + len(value) + 2 + 8
	}
	ctx := context.Background()

	_, err := hooks.ExecRunner{}.Run(ctx, "action-set", args, nil)
	require.Error(t, err, "one exec of every key must fail, or this test proves nothing")
	assert.Contains(t, err.Error(), "argument list too long")

	require.NoError(t, hooks.NewTools(hooks.ExecRunner{}).ActionSet(ctx, results))
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	got, calls := map[string]string{}, 0
	for _, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		if n, ok := strings.CutPrefix(line, "call "); ok {
			calls++
			bytes, err := strconv.Atoi(n)
			require.NoError(t, err)
			assert.LessOrEqual(t, bytes, 100*1000, "argv bytes of call %d", calls)
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, line)
		got[k] = v
	}
	assert.Equal(t, results, got)
	assert.Greater(t, calls, limit/(100*1000), "split into calls of at most 100 KB")
}
