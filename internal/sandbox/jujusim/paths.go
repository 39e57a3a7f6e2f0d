package jujusim

import (
	"os"

	"mirrormaker-k8s/internal/sandbox/internal/repo"
)

// DefaultPebbleBin is the pebble daemon pods run: $PEBBLE_BIN, else what
// `make pebble` builds at <repo>/.cache/bin/pebble.
func DefaultPebbleBin() string { return repo.PebbleBin() }

// DefaultCharmFile is the charm the simulator deploys: $CHARM_FILE, else
// what `make charm` builds at <repo>/build/mirrormaker-k8s.charm.
func DefaultCharmFile() string { return repo.CharmFile() }

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
