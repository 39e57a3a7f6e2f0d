package workload

import (
	"errors"
	"fmt"

	"github.com/canonical/pebble/client"
	"gopkg.in/yaml.v3"
)

// Service is how MM2 runs. Command must never hold a secret (argv is visible
// in the process list and in the plan): secrets go in a 0600 File.
type Service struct {
	// Command is the full command line, e.g.
	// "/opt/kafka/bin/connect-mirror-maker.sh /etc/kafka/mm2.properties".
	Command string
	// Environment is the service environment (KAFKA_OPTS, heap, log dir).
	Environment map[string]string
	// User and Group run the process; empty means the daemon's user.
	User, Group string
	// CheckURL, when set, is probed every 30 s while MM2 runs, by an HTTP
	// check with no level (so Kubernetes' probes never see it); three failures
	// in a row restart MM2, and only MM2.
	CheckURL string
}

// Desired is the whole state the charm wants for the workload. Apply makes
// the container match it and does nothing when it already does.
type Desired struct {
	// Files are pushed when missing or different in content or mode; files
	// not listed are left alone.
	Files []File
	// Service is rendered into the layer. An empty Command (allowed only when
	// not Running) leaves the layer as it is: there is nothing to run yet.
	Service Service
	// Running says whether MM2 should run (startup: enabled) or be stopped.
	Running bool
	// Known are the stamps an earlier Apply returned (Result.Stamps): files
	// whose listing still matches their stamp are not pulled back to be
	// compared. nil pulls every file whose size and mode match.
	Known map[string]Stamp
}

// Result says what Apply did, for the charm's logs and for tests. Flags are
// set once the request was made, even if waiting for it then failed.
type Result struct {
	// Pushed lists the paths written.
	Pushed []string
	// LayerChanged is true when the layer was added because the plan differed.
	LayerChanged bool
	// Started, Restarted and Stopped are true when that explicit request ran.
	Started, Restarted, Stopped bool
	// State is MM2's service state once Apply is done, so the caller need
	// not ask Pebble again; set when Apply succeeds.
	State ServiceState
	// Stamps vouch for the files Apply found current, for the next Apply's
	// Desired.Known. A file pushed now has none yet: the next Apply reads it
	// back once.
	Stamps map[string]Stamp
}

// Apply makes the workload match d, touching only what differs:
//
//   - files that are missing or differ (content, mode) are pushed, with
//     their owner;
//   - the layer is added only when our service or check in the plan differs;
//   - Running: a service that is not active is started; an active one whose
//     service definition changed is restarted; then, if MM2 still runs a
//     process that predates pushed files, it is restarted. So MM2 is
//     (re)started at most once per Apply, and always after the last push;
//   - not Running: MM2 is stopped if it is active or backing off.
//
// Only the mirrormaker service is ever named; Apply never replans. The
// workload image brings its own Pebble layer (the Charmed Kafka rock's
// `kafka` broker service, startup enabled), and a replan would start that
// broker, with no configuration, beside MM2.
//
// Errors wrap ErrNotReady when Pebble cannot be reached, and a failed change
// is a *ChangeError naming the change and its task logs.
func (w *Workload) Apply(d Desired) (Result, error) {
	var res Result
	if d.Running && d.Service.Command == "" {
		return res, errors.New("cannot run mirrormaker: service command is empty")
	}

	synced, err := w.syncFiles(d.Files, d.Known)
	res.Pushed, res.Stamps = synced.pushed, synced.stamps
	if err != nil {
		return res, err
	}

	var serviceChanged bool
	if d.Service.Command != "" {
		res.LayerChanged, serviceChanged, err = w.ensureLayer(d.Service, d.Running)
		if err != nil {
			return res, err
		}
	}

	before, err := w.serviceInfo()
	if err != nil {
		return res, err
	}

	if !d.Running {
		res.State = stateOf(before)
		if res.State.stoppable() {
			res.Stopped = true
			if err := w.runChange("stop", w.pebble.Stop); err != nil {
				return res, err
			}
			res.State = StateInactive // the stop change is done
		}
		return res, nil
	}

	wasActive := stateOf(before).Running()
	switch {
	case !wasActive:
		res.Started = true
		if err := w.runChange("start", w.pebble.Start); err != nil {
			return res, err
		}
	case serviceChanged:
		res.Restarted = true
		if err := w.runChange("restart", w.pebble.Restart); err != nil {
			return res, err
		}
	}

	after := before
	if res.Started || res.Restarted {
		if after, err = w.serviceInfo(); err != nil {
			return res, err
		}
	}
	res.State = stateOf(after)
	if !res.State.Running() {
		// Not running now: it reads the files whenever it next starts.
		return res, nil
	}
	restartedNow := !wasActive || !after.CurrentSince.Equal(before.CurrentSince)
	stalePush := len(synced.pushed) > 0 && !restartedNow
	staleKept := after.CurrentSince.Before(synced.newestKept)
	if (stalePush || staleKept) && !res.Restarted {
		res.Restarted = true
		if err := w.runChange("restart", w.pebble.Restart); err != nil {
			return res, err
		}
		if after, err = w.serviceInfo(); err != nil {
			return res, err
		}
		res.State = stateOf(after)
	}
	return res, nil
}

// ensureLayer adds our layer when the plan differs from it, and reports
// whether it did and whether our service's definition changed (a change to
// the check alone needs no restart: Pebble picks it up from the plan).
func (w *Workload) ensureLayer(s Service, running bool) (added, serviceChanged bool, err error) {
	data, err := w.pebble.PlanBytes(nil)
	if err != nil {
		return false, false, fmt.Errorf("cannot read pebble plan: %w", notReady(err))
	}
	current, err := parsePlan(data)
	if err != nil {
		return false, false, err
	}
	want := desiredLayer(s, running, current.Checks[CheckName])
	serviceDiffers, checkDiffers := layerDiffers(current, want)
	if !serviceDiffers && !checkDiffers {
		return false, false, nil
	}
	out, err := yaml.Marshal(want)
	if err != nil {
		return false, false, fmt.Errorf("cannot render pebble layer: %w", err)
	}
	err = w.pebble.AddLayer(&client.AddLayerOptions{Combine: true, Label: LayerLabel, LayerData: out})
	if err != nil {
		return false, false, fmt.Errorf("cannot add pebble layer: %w", notReady(err))
	}
	return true, serviceDiffers, nil
}
