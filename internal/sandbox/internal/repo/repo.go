// Package repo finds this repository's root, where `make` leaves the Kafka
// jars, the Pebble daemon, Prometheus and the built charm the sandbox runs
// by default.
package repo

import (
	"os"
	"path/filepath"
)

// Root is the nearest folder at or above the working directory holding
// go.mod, so defaults work from the repo root and from package tests alike;
// the working directory when there is none.
func Root() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if dir == filepath.Dir(dir) {
			return wd
		}
	}
}

// PebbleBin is the pebble daemon pods run: $PEBBLE_BIN, else what
// `make pebble` builds at <repo>/.cache/bin/pebble.
func PebbleBin() string {
	if p := os.Getenv("PEBBLE_BIN"); p != "" {
		return p
	}
	return filepath.Join(Root(), ".cache", "bin", "pebble")
}

// CharmFile is the charm the simulator deploys: $CHARM_FILE, else what
// `make charm` builds at <repo>/build/mirrormaker-k8s.charm.
func CharmFile() string {
	if p := os.Getenv("CHARM_FILE"); p != "" {
		return p
	}
	return filepath.Join(Root(), "build", "mirrormaker-k8s.charm")
}

// PrometheusBin is the Prometheus server sandbox tests run: $PROMETHEUS_BIN,
// else what `make prometheus` unpacks from Debian's package at
// <repo>/.cache/prometheus/usr/bin/prometheus.
func PrometheusBin() string {
	if p := os.Getenv("PROMETHEUS_BIN"); p != "" {
		return p
	}
	return filepath.Join(Root(), ".cache", "prometheus", "usr", "bin", "prometheus")
}
