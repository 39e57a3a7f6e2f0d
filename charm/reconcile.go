package charm

import (
	"context"
	"errors"
	"fmt"

	"mirrormaker-k8s/internal/kafkaclient"
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
	memo   syncMemo // the leader's own unit state (state-get): its sync line and sample
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

// observe reads config, relations, secrets and peers. The leader also makes sure each
// kafka_client relation carries our request, which covers a leader change and an upgrade as
// well as relation-created.
func (c *Charm) observe(ctx context.Context) (view, error) {
	var v view
	var err error
	if v.leader, err = c.tools.IsLeader(ctx); err != nil {
		return v, fmt.Errorf("cannot tell leadership: %w", err)
	}
	raw, err := c.tools.ConfigGet(ctx)
	if err != nil {
		return v, fmt.Errorf("cannot read config: %w", err)
	}
	// A config problem is the user's to fix: it blocks, it does not fail the hook.
	if v.cfg, err = parseConfig(raw); err != nil && !errors.As(err, &v.cfgErr) {
		return v, err
	}
	if v.peers, err = c.readPeers(ctx); err != nil {
		return v, err
	}
	if v.cfgErr == nil {
		v.cfgErr = v.peers.flowChange(v.cfg)
	}
	sourceID, err := c.relationID(ctx, Source.Endpoint())
	if err != nil {
		return v, err
	}
	targetID, err := c.relationID(ctx, Target.Endpoint())
	if err != nil {
		return v, err
	}
	if v.leader {
		for _, id := range []string{sourceID, targetID} {
			if err := c.ensureRequest(ctx, id); err != nil {
				return v, err
			}
		}
		if v.memo, err = c.tools.StateGet(ctx); err != nil {
			return v, fmt.Errorf("cannot read the leader's state: %w", err)
		}
		if err := c.dropOldSyncKeys(ctx, v.peers); err != nil {
			return v, err
		}
	}
	if v.cfgErr != nil {
		return v, nil
	}
	if v.source, err = c.sourceAccess(ctx, v.cfg, sourceID); err != nil {
		return v, err
	}
	if v.target, err = c.targetAccess(ctx, v.cfg, targetID); err != nil {
		return v, err
	}
	return v, nil
}

// ensureRequest writes our kafka_client request unless the databag already holds it.
func (c *Charm) ensureRequest(ctx context.Context, relID string) error {
	if relID == "" {
		return nil
	}
	ours, err := c.tools.RelationGet(ctx, relID, c.hook.App, true)
	if err != nil {
		return fmt.Errorf("cannot read our request on %s: %w", relID, err)
	}
	if kafkaclient.RequestCurrent(ours) {
		return nil
	}
	if err := c.tools.RelationSet(ctx, relID, true, kafkaclient.Request()); err != nil {
		return fmt.Errorf("cannot write our request on %s: %w", relID, err)
	}
	return nil
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
	st, err := c.apply(ctx, v)
	if err != nil {
		return st, err
	}
	state, err := c.workload.ServiceState()
	if err != nil {
		return st, fmt.Errorf("cannot read the MirrorMaker 2 service state: %w", err)
	}
	if err := c.publishServiceState(ctx, v.peers, state); err != nil {
		return st, err
	}
	if !st.decided() {
		st = c.runningStatus(v, state)
	}
	return st, nil
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
		return st, nil
	}
	desired, err := c.desired(ctx, v)
	if err != nil {
		var rerr *renderError
		if errors.As(err, &rerr) {
			return statusBlockedRender(rerr), nil
		}
		return status{}, err
	}
	res, err := c.workload.Apply(desired)
	var changeErr *workload.ChangeError
	if errors.As(err, &changeErr) && desired.Running {
		// MM2 would not (re)start: Pebble keeps retrying it (on-failure: restart). Failing the
		// hook would hide that behind a hook error; the status and the leader's sync line say it.
		c.logf(ctx, "WARNING", "MirrorMaker 2 is not running: %v", err)
		return status{}, nil
	}
	if err != nil {
		return status{}, fmt.Errorf("cannot apply the MirrorMaker 2 workload: %w", err)
	}
	if changes := describe(res); changes != "" {
		c.logf(ctx, "INFO", "MirrorMaker 2: %s", changes)
	}
	return status{}, nil
}

// runningStatus is the status of a unit whose MM2 may run. The leader shows its last sync
// line while MM2 runs, so hooks that do not measure keep the numbers on screen.
func (c *Charm) runningStatus(v view, state workload.ServiceState) status {
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
		if st, ok := v.memo.line(); ok && v.leader {
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
	address, err := c.tools.BindAddress(ctx, PeerEndpoint)
	if err != nil {
		return workload.Desired{}, fmt.Errorf("cannot read this unit's address: %w", err)
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
	version, err := c.workload.KafkaVersion()
	if err != nil {
		return workload.Desired{}, fmt.Errorf("cannot read the workload's Kafka version: %w", err)
	}
	return buildDesired(out, v.cfg, address, version, v.peers.migrating()), nil
}

// renderError is a rendering refusal: the charm blocks on it instead of retrying the hook.
type renderError struct{ err error }

func (e *renderError) Error() string { return e.err.Error() }
func (e *renderError) Unwrap() error { return e.err }
