package workload

import (
	"errors"
	"fmt"
	"maps"

	"github.com/canonical/pebble/client"
)

// Companion is a long-running service beside MM2 in the same container and
// layer: the migration exporter. It runs whether or not MM2 does (it reports
// that MM2 is stopped), and re-reads its own files on every cycle, so it is
// restarted only when its service definition changes, never for a pushed
// file. Command must never hold a secret (argv is visible in the process list
// and in the plan): secrets go in a 0600 File.
type Companion struct {
	// Name is the Pebble service name, e.g. "mm2-exporter"; it must differ
	// from ServiceName.
	Name string
	// Summary describes the service in `pebble plan`.
	Summary string
	// Command is the full command line.
	Command string
	// User and Group run the process; empty means the daemon's user.
	User, Group string
	// Environment is the service environment.
	Environment map[string]string
}

func (c *Companion) validate() error {
	switch {
	case c.Name == "":
		return errors.New("cannot run the companion service: it has no name")
	case c.Name == ServiceName:
		return fmt.Errorf("cannot run the companion service: %q is MM2's own service", c.Name)
	case c.Command == "":
		return fmt.Errorf("cannot run %s: service command is empty", c.Name)
	}
	return nil
}

// layerService renders the companion's service: always enabled, restarted by
// Pebble when it exits.
func (c *Companion) layerService() *layerService {
	return &layerService{
		Override:    "replace",
		Summary:     c.Summary,
		Command:     c.Command,
		Startup:     "enabled",
		User:        c.User,
		Group:       c.Group,
		Environment: maps.Clone(c.Environment),
		OnFailure:   "restart",
	}
}

// applyCompanion starts the companion when it is not active, or restarts it
// when its definition in the plan changed, naming only it. info is its
// latest state (nil when not in the plan). MM2's state plays no part.
func (w *Workload) applyCompanion(c *Companion, changed bool, info *client.ServiceInfo, res *Result) error {
	res.CompanionState = stateOf(info)
	switch {
	case !res.CompanionState.Running():
		res.CompanionStarted = true
		if err := w.runChange(c.Name, "start", w.pebble.Start); err != nil {
			return err
		}
	case changed:
		res.CompanionRestarted = true
		if err := w.runChange(c.Name, "restart", w.pebble.Restart); err != nil {
			return err
		}
	default:
		return nil
	}
	// The change is done: Pebble saw the process up for its okay delay.
	res.CompanionState = StateActive
	return nil
}
