package workload

import (
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

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
// socket does not exist, and after the workload container died its socket stays behind with
// nothing listening; asking Pebble then costs the client's 5 s of retries in every hook. Ready
// says not ready at once in both cases, asks Pebble nothing when it can connect (the hook's
// first real request follows), and asks once per Workload however often it is called.
func TestGivenNoSocketYetWhenReadyThenNotReadyWithoutAsking(t *testing.T) {
	dir := t.TempDir()
	listening := filepath.Join(dir, "pebble.socket")
	l, err := net.Listen("unix", listening)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	stale := filepath.Join(dir, "stale.socket")
	dead, err := net.Listen("unix", stale)
	require.NoError(t, err)
	dead.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, dead.Close()) // the file stays, nothing listens
	for _, tc := range []struct {
		name      string
		socket    string
		wantReady bool
		wantAsked int
	}{
		{"no socket yet", filepath.Join(dir, "missing.socket"), false, 0},
		{"a socket nothing listens on", stale, false, 0},
		{"Pebble listening", listening, true, 0},
		{"a fake without socket", "", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &askCounter{fakePebble: newFakePebble(t)}
			w := New(p)
			w.socket = tc.socket
			start := time.Now()
			for range 3 {
				err := w.Ready()
				assert.Equal(t, tc.wantReady, err == nil, "Ready: %v", err)
				if !tc.wantReady {
					assert.True(t, errors.Is(err, ErrNotReady), "%v wraps ErrNotReady", err)
				}
			}
			assert.Less(t, time.Since(start), readyTimeout, "no retries")
			assert.Equal(t, tc.wantAsked, p.asked, "requests to Pebble, for three calls")
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
