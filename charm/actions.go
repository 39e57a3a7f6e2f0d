package charm

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// runAction handles an action. Every action of this charm changes or reads application-wide
// state, so it runs on the leader only; elsewhere it fails naming the command that works.
func (c *Charm) runAction(ctx context.Context) error {
	name := c.hook.Action
	handlers := map[string]func(context.Context, view, map[string]any) (map[string]string, error){
		"start-migration": c.startMigration,
		"stop-migration":  c.stopMigration,
		"sync-status":     c.syncStatus,
	}
	handler, ok := handlers[name]
	if !ok {
		return c.fail(ctx, fmt.Sprintf("%s is not available in this revision of the charm", name))
	}
	params, err := c.tools.ActionGet(ctx)
	if err != nil {
		return fmt.Errorf("cannot read action parameters: %w", err)
	}
	v, err := c.reconcile(ctx)
	if err != nil {
		return c.fail(ctx, err.Error())
	}
	if !v.leader {
		return c.fail(ctx, fmt.Sprintf("%s must run on the leader: juju run %s/leader %s", name, c.hook.App, name))
	}
	results, err := handler(ctx, v, params)
	if err != nil {
		return c.fail(ctx, err.Error())
	}
	if err := c.tools.ActionSet(ctx, results); err != nil {
		return fmt.Errorf("cannot set action results: %w", err)
	}
	// The status after an action shows its effect; the view may be the action's own.
	return c.reportSync(ctx, v, c.now())
}

// fail reports an action failure to the user. The dispatch itself succeeds: a failed action is
// an answer, not something Juju should retry.
func (c *Charm) fail(ctx context.Context, msg string) error {
	if err := c.tools.ActionFail(ctx, msg); err != nil {
		return fmt.Errorf("cannot fail the action: %w", err)
	}
	return nil
}

func (c *Charm) startMigration(ctx context.Context, v view, params map[string]any) (map[string]string, error) {
	if st, ok := v.problem(); ok {
		return nil, fmt.Errorf("cannot start the migration: %s", st.Message)
	}
	results := map[string]string{
		"source": strings.Join(v.source.cluster.BootstrapServers, ","),
		"target": strings.Join(v.target.cluster.BootstrapServers, ","),
		"units":  strconv.Itoa(v.peers.units),
	}
	if dryRun, _ := params["dry-run"].(bool); dryRun {
		results["status"] = "dry run: nothing started"
		return results, nil
	}
	if v.peers.migrating() {
		results["status"] = "already mirroring"
		return results, nil
	}
	if err := c.setMigration(ctx, &v.peers, migrationStarted, c.now()); err != nil {
		return nil, err
	}
	if err := c.applyAndReport(ctx, v); err != nil {
		return nil, err
	}
	results["status"] = fmt.Sprintf("started: MirrorMaker 2 starts on all %d units", v.peers.units)
	return results, nil
}

func (c *Charm) stopMigration(ctx context.Context, v view, _ map[string]any) (map[string]string, error) {
	if !v.peers.migrating() {
		return map[string]string{"status": "not mirroring"}, nil
	}
	if err := c.setMigration(ctx, &v.peers, migrationStopped, c.now()); err != nil {
		return nil, err
	}
	if err := c.applyAndReport(ctx, v); err != nil {
		return nil, err
	}
	return map[string]string{"status": fmt.Sprintf("stopped: MirrorMaker 2 stops on all %d units; "+
		"nothing was deleted, start-migration resumes", v.peers.units)}, nil
}

// applyAndReport converges this unit at once after the leader changed the intent; the other
// units follow on the cluster-relation-changed event that the databag write causes.
func (c *Charm) applyAndReport(ctx context.Context, v view) error {
	status, err := c.converge(ctx, v)
	if err != nil {
		return err
	}
	if err := c.tools.StatusSet(ctx, status, false); err != nil {
		return fmt.Errorf("cannot set status: %w", err)
	}
	return nil
}
