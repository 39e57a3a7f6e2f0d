package sandbox

import (
	"fmt"
	"os"
	"testing"

	"mirrormaker-k8s/internal/sandbox/pods"
)

// TestMain first reaps the pods an earlier run left when it was killed (by
// go test's timeout, say): their Pebble daemons and MM2 JVMs would otherwise
// run on beside this run's, holding CPU and ports.
func TestMain(m *testing.M) {
	if os.Geteuid() == 0 {
		killed, err := pods.Reap()
		switch {
		case err != nil:
			fmt.Fprintf(os.Stderr, "cannot reap the pods of an earlier run: %v\n", err)
		case len(killed) > 0:
			fmt.Fprintf(os.Stderr, "reaped %d processes of pods an earlier run left: %v\n", len(killed), killed)
		}
	}
	os.Exit(m.Run())
}
