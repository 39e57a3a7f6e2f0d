// Package charm is the charm's logic: one Reconcile for every hook, one handler per action, and
// the status a user reads. It talks to Juju through hooks.Tools and to the workload through a
// small Workload interface, so state-transition tests run it against in-memory fakes.
package charm

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"mirrormaker-k8s/hooks"
	"mirrormaker-k8s/internal/workload"
)

// Endpoint and container names from metadata.yaml.
const (
	SourceEndpoint = "source"
	TargetEndpoint = "target"
	PeerEndpoint   = "cluster"
	Container      = "mirrormaker"
)

// Workload is what the charm needs of the MM2 container: implemented by *workload.Workload over
// Pebble, and by a fake in the state-transition tests.
type Workload interface {
	Ready() error
	Apply(workload.Desired) (workload.Result, error)
	Stop() (bool, error)
	ServiceState() (workload.ServiceState, error)
	KafkaVersion() (string, error)
}

// Charm handles one dispatch: one hook or one action of one unit.
type Charm struct {
	hook     hooks.Context
	tools    *hooks.Tools
	workload Workload
	kafka    Kafka
	now      func() time.Time
	measured *measured // this dispatch's sync view, once taken
	cache    hookCache
	// state is MM2's service state as this hook's converge left it, so the leader's
	// measurement does not ask Pebble again; nil until then, and in actions, which are long.
	state *workload.ServiceState

	// pollEvery and sleep pace the cutover's waits; tests make time pass instantly.
	pollEvery time.Duration
	sleep     func(context.Context, time.Duration) error
	// hookBudget bounds the Kafka calls of a hook (not of an action).
	hookBudget time.Duration
	// binary finds the executable pushed into the container as the migration exporter; nil
	// runs no exporter (state-transition tests).
	binary func() (exporterBinary, bool)
	// logs are the logging relations' Loki endpoints, once read in this dispatch.
	logs *[]workload.LogTarget
}

// hookKafkaBudget bounds what a hook may spend asking Kafka. Juju runs one hook at a time per
// unit, so a cluster that accepts connections and never answers (a frozen broker, a black-holed
// network) would otherwise hold the leader, and every event queued behind it, for the whole
// measurement; with it a leader hook returns well within 15 s and says the cluster is
// unreachable. Actions keep the probe's own, longer timeout: the user is waiting for them.
const hookKafkaBudget = 10 * time.Second

// New builds the charm for one dispatch.
func New(hc hooks.Context, tools *hooks.Tools, w Workload, k Kafka) *Charm {
	c := &Charm{hook: hc, tools: tools, workload: w, kafka: k, now: time.Now, pollEvery: 5 * time.Second, sleep: sleepCtx,
		hookBudget: hookKafkaBudget, binary: ownBinary}
	if hc.CharmDir != "" {
		c.cache.path = filepath.Join(hc.CharmDir, CacheFile)
	}
	return c
}

// Run handles the event Juju dispatched. It returns an error only for failures Juju should retry
// (a hook tool or Pebble failing mid-way); problems the user must fix become statuses.
func (c *Charm) Run(ctx context.Context) error {
	rec := c.cache.load(c.hook.Unit)
	if c.hook.Hook == hookUpdateStatus {
		c.cache.rec = rec
	} else if err := c.cache.drop(); err != nil { // see CacheFile
		return err
	}
	if c.hook.IsAction() {
		return c.runAction(ctx)
	}
	v, err := c.reconcile(ctx)
	if err != nil {
		return err
	}
	switch c.hook.Hook {
	case "mirrormaker-pebble-ready", "upgrade-charm":
		c.setVersion(ctx)
	}
	if c.hook.Hook == hookUpdateStatus {
		if err := c.reportSync(ctx, v, c.now()); err != nil {
			return err
		}
	}
	c.cache.save()
	return nil
}

// setVersion shows the workload's Kafka version in `juju status`; a failure only costs the
// version column, so it is logged, not returned.
func (c *Charm) setVersion(ctx context.Context) {
	if c.workload.Ready() != nil {
		return
	}
	v, err := c.kafkaVersion()
	if err != nil || v == "" {
		c.logf(ctx, "WARNING", "cannot read the workload's Kafka version: %v", err)
		return
	}
	if err := c.tools.ApplicationVersionSet(ctx, v); err != nil {
		c.logf(ctx, "WARNING", "cannot set the application version: %v", err)
	}
}

func (c *Charm) logf(ctx context.Context, level, format string, args ...any) {
	// Logging must never fail a hook.
	_ = c.tools.Log(ctx, level, fmt.Sprintf(format, args...))
}

// sleepCtx waits d, or until ctx ends: the pace of a poll loop that has its own deadline.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
