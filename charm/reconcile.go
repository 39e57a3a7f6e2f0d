package charm

import (
	"context"
	"errors"
	"fmt"

	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/workload"
)

// view is what one dispatch learned of the model. Actions reuse it so they judge the same facts
// the status shows.
type view struct {
	leader bool
	cfg    config
	cfgErr *ConfigError
	peers  peers
	source access
	target access
}

// problem is the first reason MM2 cannot run, in the order a user should fix them.
func (v view) problem() (status, bool) {
	if v.cfgErr != nil {
		return statusBlockedConfig(v.cfgErr.Option, v.cfgErr.Reason), true
	}
	for _, a := range []access{v.source, v.target} {
		if a.cluster == nil {
			return a.status, true
		}
	}
	return status{}, false
}

// measures reports whether the leader measures the migration after update-status and actions.
func (v view) measures() bool {
	_, blocked := v.problem()
	return v.leader && v.peers.migrating() && !blocked
}

// blocker is problem's status as the unit shows it: paused when a migration is under way.
func (v view) blocker() (status, bool) {
	st, ok := v.problem()
	if ok && v.peers.migrating() {
		st = st.paused()
	}
	return st, ok
}

func (v view) warnings() []string {
	var w []string
	for _, a := range []access{v.source, v.target} {
		if a.warning != "" {
			w = append(w, a.warning)
		}
	}
	return w
}

// reconcile brings the workload in line with the model and sets the statuses. Run twice, the
// second run pushes, restarts and writes nothing.
func (c *Charm) reconcile(ctx context.Context) (view, error) {
	v, err := c.observe(ctx)
	if err != nil {
		return v, err
	}
	status, err := c.converge(ctx, v)
	if err != nil {
		return v, err
	}
	if !c.cache.hit {
		if err := c.observability(ctx, v); err != nil {
			return v, err
		}
	}
	if c.hook.Hook == hookUpdateStatus && v.measures() {
		return v, nil // reportSync sets the status to what it measures: setting this one first is a wasted call
	}
	return v, c.setStatus(ctx, v, status)
}

// setStatus sets this unit's status and, on the leader, the application's to the same: once a
// leader has set it, Juju shows the application status as set until it is set again, so the
// leader refreshes it on every hook or it goes stale ("in sync" after stop-migration).
func (c *Charm) setStatus(ctx context.Context, v view, st status) error {
	if err := c.tools.StatusSet(ctx, st.hooks(), false); err != nil {
		return fmt.Errorf("cannot set status: %w", err)
	}
	if !v.leader {
		return nil
	}
	return c.setAppStatus(ctx, st)
}

// setAppStatus sets the application's status: what `juju status` shows first. Only the leader
// may, and it does after each change of intent so the line never lags behind it.
func (c *Charm) setAppStatus(ctx context.Context, st status) error {
	if err := c.tools.StatusSet(ctx, st.hooks(), true); err != nil {
		return fmt.Errorf("cannot set the application status: %w", err)
	}
	return nil
}

// converge applies the view to the workload and returns the status it leaves the unit in.
func (c *Charm) converge(ctx context.Context, v view) (status, error) {
	if err := c.workload.Ready(); err != nil {
		// A problem in the config or the relations is the user's to fix, whether or not the
		// container is up yet; Pebble coming up is not: name the problem first.
		if st, ok := v.blocker(); ok {
			return st, nil
		}
		return statusWaitingForPebble(), nil
	}
	c.state = nil
	if c.hook.IsAction() {
		// An action may run for minutes after this: its status must not show this state.
		defer func() { c.state = nil }()
	}
	st, err := c.apply(ctx, v)
	if err != nil {
		return st, err
	}
	state, err := c.serviceState()
	if err != nil {
		return st, err
	}
	if err := c.publishServiceState(ctx, v.peers, state); err != nil {
		return st, err
	}
	if st.decided() {
		return st, nil
	}
	var memo syncMemo
	if v.leader && v.peers.migrating() && state.Running() {
		if memo, err = c.memo(ctx); err != nil {
			return st, err
		}
	}
	return runningStatus(v, state, memo), nil
}

// serviceState is MM2's service state: as the last Apply left it, or asked of Pebble. With
// Pebble away no MM2 runs here: the leader's measurement names it among the units down rather
// than fail the hook (and retry a GET on a dead socket for the client's 5 s).
func (c *Charm) serviceState() (workload.ServiceState, error) {
	if c.state != nil {
		return *c.state, nil
	}
	if c.workload.Ready() != nil {
		return workload.StateAbsent, nil
	}
	s, err := c.workload.ServiceState()
	if err != nil {
		return s, fmt.Errorf("cannot read the MirrorMaker 2 service state: %w", err)
	}
	if !c.hook.IsAction() {
		c.state = &s
	}
	return s, nil
}

// apply makes the container match the view: MM2 stopped while something blocks it, otherwise
// the rendered files, layer and service. It returns a status only when MM2 cannot run.
func (c *Charm) apply(ctx context.Context, v view) (status, error) {
	if st, ok := v.blocker(); ok {
		stopped, err := c.workload.Stop()
		if err != nil {
			return st, fmt.Errorf("cannot stop MirrorMaker 2: %w", err)
		}
		if stopped {
			c.logf(ctx, "WARNING", "stopped MirrorMaker 2: %s", st.message)
		}
		return st, c.applyObservability(ctx, v)
	}
	desired, err := c.desired(ctx, v)
	if err != nil {
		var rerr *renderError
		if errors.As(err, &rerr) {
			return statusBlockedRender(rerr), nil
		}
		return status{}, err
	}
	res, err := c.applyWorkload(desired)
	if changeFailed(err, workload.ServiceName) && desired.Running {
		// MM2 would not (re)start: Pebble keeps retrying it (on-failure: restart). Failing the
		// hook would hide that behind a hook error; the status and the leader's sync line say it.
		c.logf(ctx, "WARNING", "MirrorMaker 2 is not running: %v", err)
		return status{}, nil
	}
	if err = c.exporterFailed(ctx, err); err != nil {
		return status{}, fmt.Errorf("cannot apply the MirrorMaker 2 workload: %w", err)
	}
	if changes := describe(res); changes != "" {
		c.logf(ctx, "INFO", "MirrorMaker 2: %s", changes)
	}
	return status{}, nil
}

// runningStatus is the status of a unit whose MM2 may run. The leader shows its last sync
// line (memo, read only then) while MM2 runs, so hooks that do not measure keep the numbers on
// screen.
func runningStatus(v view, state workload.ServiceState, memo syncMemo) status {
	if !v.peers.migrating() {
		st := statusReady()
		switch v.peers.migration() {
		case migrationStopped:
			st = statusMigrationStopped()
		case migrationComplete:
			st = statusCutoverComplete(v.peers.cutoverEndpoints())
		}
		return st.withWarnings(v.warnings())
	}
	switch {
	case state.Running():
		if st, ok := memo.line(); ok && v.leader {
			return st
		}
		return statusMirroring().withWarnings(v.warnings())
	case state.Failing():
		return statusWaitingMM2Failed()
	}
	return statusStarting()
}

// desired renders the files and service MM2 needs on this unit.
func (c *Charm) desired(ctx context.Context, v view) (workload.Desired, error) {
	address, err := c.address(ctx)
	if err != nil {
		return workload.Desired{}, err
	}
	out, err := mm2.Render(mm2.Input{
		Source:      *v.source.cluster,
		Target:      *v.target.cluster,
		Settings:    v.cfg.settings,
		UnitAddress: address,
		Units:       v.peers.units,
	})
	if err != nil {
		// Config is validated before rendering, so this is a provider answer or a combination
		// the renderer refuses; either way the user must act, and Render's message says on what.
		return workload.Desired{}, &renderError{err}
	}
	version, err := c.kafkaVersion()
	if err != nil {
		return workload.Desired{}, fmt.Errorf("cannot read the workload's Kafka version: %w", err)
	}
	d := buildDesired(out, v.cfg, address, version, v.peers.migrating())
	if err := c.withObservability(ctx, &d, v, address); err != nil {
		return workload.Desired{}, err
	}
	return d, nil
}

// changeFailed reports whether err holds a failed Pebble change of service.
func changeFailed(err error, service string) bool {
	for _, e := range flatten(err) {
		var ce *workload.ChangeError
		if errors.As(e, &ce) && (ce.Service == service || (ce.Service == "" && service == workload.ServiceName)) {
			return true
		}
	}
	return false
}

// withoutChangesOf is err without the failed Pebble changes of service, nil when nothing else
// is left.
func withoutChangesOf(err error, service string) error {
	var rest []error
	for _, e := range flatten(err) {
		var ce *workload.ChangeError
		if !errors.As(e, &ce) || ce.Service != service {
			rest = append(rest, e)
		}
	}
	return errors.Join(rest...)
}

// flatten lists the errors errors.Join put together, or err alone.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// applyWorkload applies d with the stamps the hook cache vouches for, and keeps what Apply
// learned: MM2's state for this dispatch, and the stamps for the next.
func (c *Charm) applyWorkload(d workload.Desired) (workload.Result, error) {
	d.Known = c.cache.files
	res, err := c.workload.Apply(d)
	if err == nil {
		c.state = &res.State
		c.cache.keepStamps(res.Stamps)
	}
	return res, err
}

// renderError is a rendering refusal: the charm blocks on it instead of retrying the hook.
type renderError struct{ err error }

func (e *renderError) Error() string { return e.err.Error() }
func (e *renderError) Unwrap() error { return e.err }
