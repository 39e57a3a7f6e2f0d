package jujusim

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"

	"mirrormaker-k8s/hooks/hookstest"
)

// The charm's COS endpoints (metadata.yaml): it provides metrics-endpoint
// (prometheus_scrape) and grafana-dashboard (grafana_dashboard) and
// requires logging (loki_push_api).
const (
	MetricsEndpoint   = "metrics-endpoint"
	DashboardEndpoint = "grafana-dashboard"
	LoggingEndpoint   = "logging"
)

// COSConsumer plays a COS application that only reads what the charm
// publishes: Prometheus on metrics-endpoint, Grafana on grafana-dashboard.
// Their charms write nothing the charm needs (Prometheus writes an "event"
// field only when it rejects the charm's rules), so it answers nothing;
// a test reads the charm's side with Sim.RelationData.
type COSConsumer struct{ app string }

// NewPrometheusConsumer is Prometheus, one unit, for metrics-endpoint.
func NewPrometheusConsumer() *COSConsumer { return &COSConsumer{app: "prometheus"} }

// NewGrafanaConsumer is Grafana, one unit, for grafana-dashboard.
func NewGrafanaConsumer() *COSConsumer { return &COSConsumer{app: "grafana"} }

// App is the remote application's name.
func (c *COSConsumer) App() string { return c.app }

// Units is the one unit of the remote application.
func (c *COSConsumer) Units() []string { return []string{c.app + "/0"} }

// Answer publishes nothing and is never waiting.
func (c *COSConsumer) Answer(context.Context, int, map[string]string) (ProviderAnswer, bool, error) {
	return ProviderAnswer{}, true, nil
}

// LokiProvider plays Loki on the charm's logging endpoint: its one unit
// publishes its push URL in its unit databag as loki_push_api's provider
// does (lib/charms/loki_k8s/v1/loki_push_api.py: endpoint = {"url": ...},
// and public_address, the unit's address).
type LokiProvider struct{ pushURL string }

// NewLokiProvider is Loki whose push URL (…/loki/api/v1/push) is pushURL,
// e.g. a fakeloki.Server's URL().
func NewLokiProvider(pushURL string) *LokiProvider { return &LokiProvider{pushURL: pushURL} }

// App is "loki".
func (p *LokiProvider) App() string { return "loki" }

// Units is loki/0.
func (p *LokiProvider) Units() []string { return []string{"loki/0"} }

// Answer publishes loki/0's endpoint whatever the charm wrote (its
// metadata and alert_rules are for Loki's own use).
func (p *LokiProvider) Answer(context.Context, int, map[string]string) (ProviderAnswer, bool, error) {
	u, err := url.Parse(p.pushURL)
	if err != nil {
		return ProviderAnswer{}, false, fmt.Errorf("cannot parse loki push url: %w", err)
	}
	endpoint, err := json.Marshal(map[string]string{"url": p.pushURL})
	if err != nil {
		return ProviderAnswer{}, false, fmt.Errorf("cannot encode loki endpoint: %w", err)
	}
	return ProviderAnswer{UnitData: map[string]map[string]string{
		"loki/0": {"endpoint": string(endpoint), "public_address": u.Hostname()},
	}}, true, nil
}

// RelationData returns what the application published on the relation on
// endpoint: its app databag and each of its units' databags, keyed by unit
// name (every unit of the model, an empty bag for one that wrote nothing).
// That is what the remote application reads: a test hands it to, e.g.,
// promserver's Configure.
func (s *Sim) RelationData(ctx context.Context, endpoint string) (app map[string]string, units map[string]map[string]string, err error) {
	m, err := s.store.read(ctx)
	if err != nil {
		return nil, nil, err
	}
	var rel *hookstest.Relation
	for _, r := range m.Relations {
		if r.Endpoint == endpoint && !r.IsPeer(m.App) {
			rel = r
		}
	}
	if rel == nil {
		return nil, nil, fmt.Errorf("cannot read relation %s: not related", endpoint)
	}
	app = maps.Clone(rel.Data[m.App])
	if app == nil {
		app = map[string]string{}
	}
	units = map[string]map[string]string{}
	for _, u := range m.Units {
		bag := maps.Clone(rel.Data[u])
		if bag == nil {
			bag = map[string]string{}
		}
		units[u] = bag
	}
	return app, units, nil
}
