// Package testenv is what the sandbox's tests need of the machine: root and
// the unshare/nsenter tools for pods, a Pebble daemon, and one rule for a
// missing piece (skip, or fail under $MM_REQUIRE_SANDBOX, as CI sets it).
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"mirrormaker-k8s/internal/sandbox/internal/repo"
)

// Unavailable skips tb because something the sandbox needs is missing, or
// fails it under $MM_REQUIRE_SANDBOX, where a skipped test would hide that
// CI did not run it.
func Unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("MM_REQUIRE_SANDBOX") != "" {
		tb.Fatalf("sandbox required: "+format, args...)
	}
	tb.Skipf("skipping: "+format, args...)
}

// SkipShort skips a sandbox test in -short mode, unless $MM_REQUIRE_SANDBOX
// asks for the sandbox anyway.
func SkipShort(tb testing.TB) {
	tb.Helper()
	if testing.Short() && os.Getenv("MM_REQUIRE_SANDBOX") == "" {
		tb.Skip("skipping a sandbox test in -short mode")
	}
}

// RequireRoot skips tb unless pods can run: root, for mount namespaces, and
// the unshare and nsenter tools.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	SkipShort(tb)
	if os.Geteuid() != 0 {
		tb.Skip("sandbox pods need root (mount namespaces); skipping")
	}
	for _, tool := range []string{"unshare", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("sandbox pods need %s: %v", tool, err)
		}
	}
}

var (
	pebbleOnce  sync.Once
	pebblePath  string
	pebbleError error
)

// Pebble returns the pebble daemon binary: repo.PebbleBin when it exists,
// else one built once for this test run.
func Pebble(tb testing.TB) string {
	tb.Helper()
	pebbleOnce.Do(func() {
		if p := repo.PebbleBin(); exists(p) {
			pebblePath = p
			return
		}
		dir, err := os.MkdirTemp("", "sandbox-pebble-")
		if err != nil {
			pebbleError = err
			return
		}
		pebblePath = filepath.Join(dir, "pebble")
		out, err := exec.Command("go", "build", "-o", pebblePath, "github.com/canonical/pebble/cmd/pebble").CombinedOutput()
		if err != nil {
			pebbleError = &buildError{err: err, out: string(out)}
		}
	})
	if pebbleError != nil {
		tb.Fatalf("cannot build pebble (set PEBBLE_BIN or run make pebble): %v", pebbleError)
	}
	return pebblePath
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }
