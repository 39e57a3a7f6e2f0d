package charm

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"mirrormaker-k8s/internal/cos"
	"mirrormaker-k8s/internal/workload"
)

// Endpoints of the Canonical Observability Stack, from metadata.yaml.
const (
	MetricsEndpoint   = "metrics-endpoint"  // prometheus_scrape, provided
	DashboardEndpoint = "grafana-dashboard" // grafana_dashboard, provided
	LoggingEndpoint   = "logging"           // loki_push_api, required
)

// charmName is the charm's name in the Juju topology labels COS puts on every series and log.
const charmName = "mirrormaker-k8s"

func (c *Charm) topology() cos.Topology {
	return cos.Topology{
		Model: c.hook.Model, ModelUUID: c.hook.ModelUUID, Application: c.hook.App,
		Unit: c.hook.Unit, CharmName: charmName,
	}
}

// observability publishes the observability relations' data; update-status, which reuses what
// the last hook read, skips it: relations change only with hooks of their own.
func (c *Charm) observability(ctx context.Context, v view) error {
	return c.publishCOS(ctx, v.leader)
}

// publishCOS writes what the observability relations carry: on metrics-endpoint every unit its
// address and name, the leader the scrape jobs, their metadata and the alert rules; on
// grafana-dashboard the leader the dashboard. A databag is written only when it holds something
// else, so a hook that changes nothing fires no relation-changed on the other side.
func (c *Charm) publishCOS(ctx context.Context, leader bool) error {
	scrape, err := c.liveRelations(ctx, MetricsEndpoint)
	if err != nil {
		return err
	}
	var address string
	var scrapeApp, dashboards map[string]string
	if len(scrape) > 0 {
		if address, err = c.address(ctx); err != nil {
			return err
		}
	}
	if leader && len(scrape) > 0 {
		if scrapeApp, err = cos.ScrapeAppData(c.topology()); err != nil {
			return err
		}
	}
	for _, id := range scrape {
		if err := c.setIfChanged(ctx, id, false, cos.ScrapeUnitData(address, c.hook.Unit)); err != nil {
			return err
		}
		if leader {
			if err := c.setIfChanged(ctx, id, true, scrapeApp); err != nil {
				return err
			}
		}
	}
	if !leader {
		return nil
	}
	boards, err := c.liveRelations(ctx, DashboardEndpoint)
	if err != nil {
		return err
	}
	if len(boards) > 0 {
		if dashboards, err = cos.DashboardAppData(c.topology()); err != nil {
			return err
		}
	}
	for _, id := range boards {
		if err := c.setIfChanged(ctx, id, true, dashboards); err != nil {
			return err
		}
	}
	return nil
}

// liveRelations lists endpoint's relations but the one dying in this relation-broken, which Juju
// still lists and whose databags are not to be written or followed.
func (c *Charm) liveRelations(ctx context.Context, endpoint string) ([]string, error) {
	ids, err := c.tools.RelationIDs(ctx, endpoint)
	if err != nil {
		return nil, fmt.Errorf("cannot list %s relations: %w", endpoint, err)
	}
	if c.hook.Hook != endpoint+"-relation-broken" {
		return ids, nil
	}
	return slices.DeleteFunc(ids, func(id string) bool { return id == c.hook.RelationID }), nil
}

// setIfChanged writes want into this unit's (or, with app, the application's) databag of
// relation id unless every key already holds its value.
func (c *Charm) setIfChanged(ctx context.Context, id string, app bool, want map[string]string) error {
	member := c.hook.Unit
	if app {
		member = c.hook.App
	}
	have, err := c.tools.RelationGet(ctx, id, member, app)
	if err != nil {
		return fmt.Errorf("cannot read relation %s: %w", id, err)
	}
	same := true
	for k, v := range want {
		if have[k] != v {
			same = false
			break
		}
	}
	if same {
		return nil
	}
	if err := c.tools.RelationSet(ctx, id, app, want); err != nil {
		return fmt.Errorf("cannot write relation %s: %w", id, err)
	}
	return nil
}

// logTargets are the Loki endpoints of the logging relations, one Pebble log target per Loki
// unit as ops' LogForwarder makes them, labelled with the Juju topology. The list is empty, not
// nil, without a relation: the targets of a relation that went away then forward nothing.
func (c *Charm) logTargets(ctx context.Context) ([]workload.LogTarget, error) {
	if c.logs != nil { // an action applies the workload twice: Juju is asked once
		return *c.logs, nil
	}
	ids, err := c.liveRelations(ctx, LoggingEndpoint)
	if err != nil {
		return nil, err
	}
	t := c.topology()
	labels := map[string]string{
		"product": "Juju", "charm": t.CharmName, "juju_model": t.Model, "juju_model_uuid": t.ModelUUID,
		"juju_application": t.Application, "juju_unit": t.Unit,
	}
	targets := []workload.LogTarget{}
	for _, id := range ids {
		units, err := c.tools.RelationUnits(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("cannot list the units of relation %s: %w", id, err)
		}
		for _, u := range units {
			if c.hook.Hook == LoggingEndpoint+"-relation-departed" && u == c.hook.DepartingUnit {
				continue
			}
			data, err := c.tools.RelationGet(ctx, id, u, false)
			if err != nil {
				return nil, fmt.Errorf("cannot read %s's endpoint on relation %s: %w", u, id, err)
			}
			url, ok := lokiURL(data["endpoint"])
			if !ok {
				continue // not published yet: its relation-changed comes
			}
			targets = append(targets, workload.LogTarget{
				Name:     workload.LogTargetPrefix + strings.ReplaceAll(u, "/", "-"),
				Location: url,
				Services: []string{"all"},
				Labels:   maps.Clone(labels),
			})
		}
	}
	slices.SortFunc(targets, func(a, b workload.LogTarget) int { return strings.Compare(a.Name, b.Name) })
	c.logs = &targets
	return targets, nil
}

// lokiURL reads the push URL a Loki unit publishes as {"url": "..."}.
func lokiURL(endpoint string) (string, bool) {
	var ep struct {
		URL string `json:"url"`
	}
	if endpoint == "" || json.Unmarshal([]byte(endpoint), &ep) != nil || ep.URL == "" {
		return "", false
	}
	return ep.URL, true
}
