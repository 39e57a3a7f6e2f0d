package charm

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"mirrormaker-k8s/internal/migration"
	"mirrormaker-k8s/internal/mm2"
)

// runAction handles an action. Every action of this charm changes or reads application-wide
// state, so it runs on the leader only; elsewhere it fails naming the command that works.
func (c *Charm) runAction(ctx context.Context) error {
	name := c.hook.Action
	handlers := map[string]func(context.Context, view, map[string]any) (map[string]string, error){
		"start-migration": c.startMigration,
		"stop-migration":  c.stopMigration,
		"sync-status":     c.syncStatus,
		"cutover":         c.cutover,
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
		// Leadership can move while an action runs (the unit's lease lapsed); from then on its
		// writes of the migration's decisions are refused. Say so, and where to go on.
		if still, lerr := c.tools.IsLeader(ctx); lerr == nil && !still {
			err = fmt.Errorf("%w; leadership moved to another unit while %s ran, so it stopped here: "+
				"run it again on the leader (juju run %s/leader %s), which takes up what is left", err, name, c.hook.App, name)
		}
		// A handler may have done part of its work (the groups a cutover moved): its results
		// say what, beside the failure.
		if len(results) > 0 {
			if err := c.tools.ActionSet(ctx, results); err != nil {
				return fmt.Errorf("cannot set action results: %w", err)
			}
		}
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
		return nil, fmt.Errorf("cannot start the migration: %s", st.message)
	}
	dryRun, _ := params["dry-run"].(bool)
	if v.peers.migration() == migrationComplete && !dryRun {
		return nil, fmt.Errorf("cannot start the migration: the cutover is complete and clients use the target (%s); "+
			"mirroring again would write into its live topics (to migrate again, deploy a new application)",
			v.peers.cutoverEndpoints())
	}
	if v.peers.migrating() && !dryRun {
		return map[string]string{"status": "already mirroring"}, nil
	}
	_ = c.tools.ActionLog(ctx, "preflight: checking both clusters")
	plan, err := c.kafka.Preflight(ctx, *v.source.cluster, *v.target.cluster, migration.PreflightOptions{
		Flow:                      mm2.NewFlow(v.cfg.sourceAlias, v.cfg.targetAlias, v.cfg.settings),
		ReplicationFactor:         v.cfg.settings.ReplicationFactor,
		InternalReplicationFactor: v.cfg.settings.InternalReplFactor,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot run the preflight: %w", err)
	}
	results := planResults(plan)
	results["units"] = strconv.Itoa(v.peers.units)
	if !plan.OK() {
		// The results carry every problem too, for scripts; the message is what people read.
		if err := c.tools.ActionSet(ctx, results); err != nil {
			return nil, fmt.Errorf("cannot set action results: %w", err)
		}
		return nil, preflightError(plan)
	}
	if dryRun {
		results["status"] = "dry run: preflight passed, nothing started"
		return results, nil
	}
	if err := c.setFlow(ctx, &v.peers, flowIDOf(v.cfg)); err != nil {
		return nil, err
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

// planResults is what the preflight found to mirror, and every problem, as action results.
func planResults(plan migration.Plan) map[string]string {
	r := map[string]string{
		"plan.topics":     strconv.Itoa(len(plan.Topics)),
		"plan.partitions": strconv.Itoa(plan.Partitions),
		"plan.bytes":      strconv.FormatInt(plan.Bytes, 10),
		"plan.groups":     strconv.Itoa(len(plan.Groups)),
	}
	for i, t := range plan.Topics {
		k := "plan.topic." + strconv.Itoa(i) + "."
		r[k+"source"], r[k+"target"] = t.Source, t.Target
		r[k+"partitions"] = strconv.Itoa(int(t.Partitions))
		r[k+"bytes"] = strconv.FormatInt(t.Bytes, 10)
	}
	for i, p := range plan.Problems {
		r["problems."+strconv.Itoa(i)] = p.String()
	}
	return r
}

func preflightError(plan migration.Plan) error {
	lines := make([]string, len(plan.Problems))
	for i, p := range plan.Problems {
		lines[i] = fmt.Sprintf("(%d) %s", i+1, p)
	}
	return fmt.Errorf("preflight found %d problem(s), nothing started: %s", len(lines), strings.Join(lines, "; "))
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
	return c.setStatus(ctx, v, status)
}
