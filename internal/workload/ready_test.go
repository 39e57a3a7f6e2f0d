package workload

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// askCounter is a Pebble that counts the system-info requests Ready makes.
type askCounter struct {
	*fakePebble
	asked int
}

func (a *askCounter) SysInfo() (*client.SysInfo, error) {
	a.asked++
	return a.fakePebble.SysInfo()
}

// TestGivenNoSocketYetWhenReadyThenNotReadyWithoutAsking: before the container is up its
// socket does not exist, and asking Pebble then costs the client's 5 s of retries in every
// hook; Ready says not ready without asking.
func TestGivenNoSocketYetWhenReadyThenNotReadyWithoutAsking(t *testing.T) {
	dir := t.TempDir()
	present := filepath.Join(dir, "pebble.socket")
	require.NoError(t, os.WriteFile(present, nil, 0o600))
	for _, tc := range []struct {
		name      string
		socket    string
		wantReady bool
		wantAsked int
	}{
		{"no socket yet", filepath.Join(dir, "missing.socket"), false, 0},
		{"socket there", present, true, 1},
		{"a fake without socket", "", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &askCounter{fakePebble: newFakePebble(t)}
			w := New(p)
			w.socket = tc.socket
			err := w.Ready()
			assert.Equal(t, tc.wantReady, err == nil, "Ready: %v", err)
			if !tc.wantReady {
				assert.True(t, errors.Is(err, ErrNotReady), "%v wraps ErrNotReady", err)
			}
			assert.Equal(t, tc.wantAsked, p.asked, "requests to Pebble")
		})
	}
}

// BenchmarkReadyBeforeTheContainerIsUp is what every hook before pebble-ready pays to learn
// that Pebble is not there: 5 s with the client's retries, microseconds with the socket check.
func BenchmarkReadyBeforeTheContainerIsUp(b *testing.B) {
	w, err := Connect(filepath.Join(b.TempDir(), "pebble.socket"))
	require.NoError(b, err)
	for b.Loop() {
		if err := w.Ready(); !errors.Is(err, ErrNotReady) {
			b.Fatalf("Ready: %v", err)
		}
	}
}
