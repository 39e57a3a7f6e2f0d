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
	// not Running) leaves MM2's part of the layer as it is: there is nothing
	// to run yet.
	Service Service
	// Running says whether MM2 should run (startup: enabled) or be stopped.
	Running bool
	// Companion, when set, runs beside MM2 whatever Running says (see
	// Companion). nil leaves any companion in the plan alone.
	Companion *Companion
	// LogTargets are the Loki endpoints Pebble forwards logs to. Targets of
	// ours (LogTargetPrefix) in the plan but not listed stop receiving logs;
	// others' are left alone. nil leaves log targets alone; an empty non-nil
	// slice disables every target of ours.
	LogTargets []LogTarget
	// Executable, when set with a Companion, is the program the companion
	// runs, pushed when it is not in place (see Executable), after MM2's part
	// of Apply. nil pushes none.
	Executable *Executable
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
	// LogTargetsChanged is true when that layer changed a log target of ours;
	// Pebble applies it at once, no service is restarted for it.
	LogTargetsChanged bool
	// Started, Restarted and Stopped are true when that explicit request ran.
	Started, Restarted, Stopped bool
	// CompanionStarted and CompanionRestarted are the same for the companion.
	CompanionStarted, CompanionRestarted bool
	// State is MM2's service state once Apply is done, so the caller need
	// not ask Pebble again; set when Apply succeeds.
	State ServiceState
	// CompanionState is the companion's, StateAbsent without a Companion.
	CompanionState ServiceState
	// Stamps vouch for the files Apply found current, for the next Apply's
	// Desired.Known. A file pushed now has none yet: the next Apply reads it
	// back once.
	Stamps map[string]Stamp
}

// Apply makes the workload match d, touching only what differs:
//
//   - files that are missing or differ (content, mode) are pushed, with
//     their owner;
//   - the layer is added, once, only when our service, check, companion or
//     log targets in the plan differ;
//   - Running: a service that is not active is started; an active one whose
//     service definition changed is restarted; then, if MM2 still runs a
//     process that predates pushed files, it is restarted. So MM2 is
//     (re)started at most once per Apply, and always after the last push;
//   - not Running: MM2 is stopped if it is active or backing off;
//   - the companion, running or not, is started when it is not active and
//     restarted when its own definition changed, never for pushed files; MM2
//     is never (re)started or stopped for the companion's sake.
//
// Only the mirrormaker service and the companion are ever named, each in its
// own change; Apply never replans. The workload image brings its own Pebble
// layer (the Charmed Kafka rock's `kafka` broker service, startup enabled),
// and a replan would start that broker, with no configuration, beside MM2.
// One Services request asks about both services at once.
//
// Errors wrap ErrNotReady when Pebble cannot be reached, and a failed change
// is a *ChangeError naming the service, the change and its task logs. A
// failed change of MM2 does not keep the companion from being started, nor
// the other way round: both errors are returned, joined.
func (w *Workload) Apply(d Desired) (Result, error) {
	var res Result
	if d.Running && d.Service.Command == "" {
		return res, errors.New("cannot run mirrormaker: service command is empty")
	}
	if d.Companion != nil {
		if err := d.Companion.validate(); err != nil {
			return res, err
		}
	}
	if err := validateLogTargets(d.LogTargets); err != nil {
		return res, err
	}

	synced, err := w.syncFiles(d.Files, d.Known)
	res.Pushed, res.Stamps = append(synced.pushed, synced.quiet...), synced.stamps
	if err != nil {
		return res, err
	}

	changed, err := w.ensureLayer(d)
	res.LayerChanged = changed.added
	res.LogTargetsChanged = changed.added && changed.logTargets
	if err != nil {
		return res, err
	}

	// Every query asks about both services, so the companion's state is
	// the latest MM2's logic asked for.
	names := []string{ServiceName}
	if d.Companion != nil {
		names = append(names, d.Companion.Name)
	}
	var latest map[string]*client.ServiceInfo
	query := func() (*client.ServiceInfo, error) {
		infos, err := w.servicesInfo(names)
		if err != nil {
			return nil, err
		}
		latest = infos
		return infos[ServiceName], nil
	}

	mm2Err := w.applyService(d.Running, changed.service, synced, query, &res)
	if d.Companion == nil || latest == nil || errors.Is(mm2Err, ErrNotReady) {
		return res, mm2Err
	}
	if d.Executable != nil {
		// After MM2's part: a program that cannot be pushed keeps the companion from starting,
		// never MM2 from running.
		pushed, err := w.ensureExecutable(*d.Executable)
		if pushed {
			res.Pushed = append(res.Pushed, d.Executable.Path)
		}
		if err != nil {
			if !errors.Is(err, ErrNotReady) {
				err = &ChangeError{Service: d.Companion.Name, Action: "push the program", Err: err.Error()}
			}
			return res, errors.Join(mm2Err, err)
		}
	}
	companionErr := w.applyCompanion(d.Companion, changed.companion, latest[d.Companion.Name], &res)
	return res, errors.Join(mm2Err, companionErr)
}

// applyService starts, restarts or stops MM2 as Apply describes. query asks
// Pebble for MM2's state.
func (w *Workload) applyService(running, serviceChanged bool, synced fileSync,
	query func() (*client.ServiceInfo, error), res *Result,
) error {
	before, err := query()
	if err != nil {
		return err
	}

	if !running {
		res.State = stateOf(before)
		if res.State.stoppable() {
			res.Stopped = true
			if err := w.runChange(ServiceName, "stop", w.pebble.Stop); err != nil {
				return err
			}
			res.State = StateInactive // the stop change is done
		}
		return nil
	}

	wasActive := stateOf(before).Running()
	switch {
	case !wasActive:
		res.Started = true
		if err := w.runChange(ServiceName, "start", w.pebble.Start); err != nil {
			return err
		}
	case serviceChanged:
		res.Restarted = true
		if err := w.runChange(ServiceName, "restart", w.pebble.Restart); err != nil {
			return err
		}
	}

	after := before
	if res.Started || res.Restarted {
		if after, err = query(); err != nil {
			return err
		}
	}
	res.State = stateOf(after)
	if !res.State.Running() {
		// Not running now: it reads the files whenever it next starts.
		return nil
	}
	restartedNow := !wasActive || !after.CurrentSince.Equal(before.CurrentSince)
	stalePush := len(synced.pushed) > 0 && !restartedNow
	staleKept := after.CurrentSince.Before(synced.newestKept)
	if (stalePush || staleKept) && !res.Restarted {
		res.Restarted = true
		if err := w.runChange(ServiceName, "restart", w.pebble.Restart); err != nil {
			return err
		}
		if after, err = query(); err != nil {
			return err
		}
		res.State = stateOf(after)
	}
	return nil
}

// layerChange says what ensureLayer found different in the plan.
type layerChange struct {
	added      bool // the layer was added
	service    bool // MM2's service definition (not its check alone)
	companion  bool // the companion's service definition
	logTargets bool // a log target of ours
}

// ensureLayer adds our layer when the plan differs from it, and reports what
// differed (a change to the check alone needs no restart: Pebble picks it up
// from the plan; nor does a log target's). The layer holds everything d
// wants, so adding it again is harmless: every entry is override: replace.
func (w *Workload) ensureLayer(d Desired) (layerChange, error) {
	var ch layerChange
	if d.Service.Command == "" && d.Companion == nil && d.LogTargets == nil {
		return ch, nil // nothing of ours to write
	}
	data, err := w.pebble.PlanBytes(nil)
	if err != nil {
		return ch, fmt.Errorf("cannot read pebble plan: %w", notReady(err))
	}
	current, err := parsePlan(data)
	if err != nil {
		return ch, err
	}
	want := &layer{Summary: layerSummary, Services: map[string]*layerService{}}
	var checkDiffers bool
	if d.Service.Command != "" {
		want = desiredLayer(d.Service, d.Running, current.Checks[CheckName])
		ch.service, checkDiffers = layerDiffers(current, want)
	}
	if c := d.Companion; c != nil {
		want.Services[c.Name] = c.layerService()
		ch.companion = !sameService(current.Services[c.Name], want.Services[c.Name])
	}
	want.LogTargets = desiredLogTargets(d.LogTargets, current.LogTargets)
	ch.logTargets = logTargetsDiffer(current.LogTargets, want.LogTargets)
	if !ch.service && !checkDiffers && !ch.companion && !ch.logTargets {
		return ch, nil
	}
	out, err := yaml.Marshal(want)
	if err != nil {
		return ch, fmt.Errorf("cannot render pebble layer: %w", err)
	}
	err = w.pebble.AddLayer(&client.AddLayerOptions{Combine: true, Label: LayerLabel, LayerData: out})
	if err != nil {
		return ch, fmt.Errorf("cannot add pebble layer: %w", notReady(err))
	}
	ch.added = true
	return ch, nil
}
