package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	pebbleOnce  sync.Once
	pebblePath  string
	pebbleError error
)

// testPebble returns the pebble daemon binary: DefaultPebbleBin when it
// exists, else one built once for this test run.
func testPebble(t *testing.T) string {
	t.Helper()
	pebbleOnce.Do(func() {
		if p := DefaultPebbleBin(); simPathExists(p) {
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
		t.Fatalf("cannot build pebble (set PEBBLE_BIN or run make pebble): %v", pebbleError)
	}
	return pebblePath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }
