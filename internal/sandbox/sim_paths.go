package sandbox

import (
	"os"
	"path/filepath"
)

// DefaultPebbleBin is the pebble daemon pods run: $PEBBLE_BIN, else what
// `make pebble` builds at <repo>/.cache/bin/pebble.
func DefaultPebbleBin() string {
	if p := os.Getenv("PEBBLE_BIN"); p != "" {
		return p
	}
	return filepath.Join(RepoRoot(), ".cache", "bin", "pebble")
}

// DefaultCharmFile is the charm the simulator deploys: $CHARM_FILE, else
// what `make charm` builds at <repo>/build/mirrormaker-k8s.charm.
func DefaultCharmFile() string {
	if p := os.Getenv("CHARM_FILE"); p != "" {
		return p
	}
	return filepath.Join(RepoRoot(), "build", "mirrormaker-k8s.charm")
}

// RepoRoot is the nearest folder at or above the working directory holding
// go.mod, so defaults work from the repo root and from package tests alike;
// the working directory when there is none.
func RepoRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if simPathExists(filepath.Join(dir, "go.mod")) {
			return dir
		}
		if dir == filepath.Dir(dir) {
			return wd
		}
	}
}

func simPathExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
