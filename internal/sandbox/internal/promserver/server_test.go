package promserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/internal/repo"
	"mirrormaker-k8s/internal/sandbox/internal/testenv"
)

// startServer runs a real Prometheus for the test, stopped when it ends.
func startServer(t *testing.T) *Server {
	t.Helper()
	testenv.SkipShort(t)
	if _, err := os.Stat(repo.PrometheusBin()); err != nil {
		testenv.Unavailable(t, "no prometheus at %s (make prometheus or set PROMETHEUS_BIN)", repo.PrometheusBin())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Stop()) })
	return s
}

// exporter serves a tiny exposition whose value the test sets.
func exporter(t *testing.T, value *atomic.Int64) (port string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# TYPE sandbox_test_value gauge\nsandbox_test_value{topic=\"orders\"} %d\n", value.Load())
	}))
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	return port
}

func TestGivenRelationDataWhenConfiguredThenPrometheusScrapesWithTopologyAndFiresItsAlerts(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var value atomic.Int64
	value.Store(5)
	port := exporter(t, &value)

	rules, err := json.Marshal(map[string]any{"groups": []any{map[string]any{
		"name": "migration_8b1b5f6e_mirrormaker-k8s_test_alerts",
		"rules": []any{map[string]any{
			"alert": "SandboxValueHigh", "expr": "sandbox_test_value{%%juju_topology%%} > 3", "for": "0s",
			"labels": map[string]any{"severity": "warning", "juju_model": "migration",
				"juju_model_uuid": testUUID, "juju_application": "mirrormaker-k8s", "juju_charm": "mirrormaker-k8s"},
			"annotations": map[string]any{"summary": "value {{ $value }} on {{ $labels.juju_unit }}"},
		}},
	}}})
	require.NoError(t, err)
	app := map[string]string{
		"scrape_jobs":     `[{"job_name":"mm2-test","static_configs":[{"targets":["*:` + port + `"]}]}]`,
		"scrape_metadata": metadata(t),
		"alert_rules":     string(rules),
	}
	units := map[string]map[string]string{"mirrormaker-k8s/0": {
		"prometheus_scrape_unit_address": "127.0.0.1", "prometheus_scrape_unit_name": "mirrormaker-k8s/0"}}
	require.NoError(t, s.Configure(ctx, app, units))

	// The series arrives with the juju topology the consumer adds.
	var got Vector
	require.NoError(t, poll.Until(ctx, 30*time.Second, 200*time.Millisecond, func() (bool, error) {
		got, err = s.Query(ctx, `sandbox_test_value`)
		return len(got) == 1, err
	}, "the scraped series"), "log:\n%s", s.LogPath())
	assert.Equal(t, map[string]string{
		"__name__": "sandbox_test_value", "topic": "orders",
		"job":        "juju_migration_8b1b5f6e_mirrormaker-k8s_prometheus_scrape_mm2-test-0",
		"instance":   "migration_" + testUUID + "_mirrormaker-k8s_mirrormaker-k8s/0",
		"juju_model": "migration", "juju_model_uuid": testUUID, "juju_application": "mirrormaker-k8s",
		"juju_charm": "mirrormaker-k8s", "juju_unit": "mirrormaker-k8s/0",
	}, got[0].Labels)
	assert.Equal(t, 5.0, got[0].Value)
	names, err := s.MetricNames(ctx)
	require.NoError(t, err)
	assert.Contains(t, names, "sandbox_test_value")
	targets, err := s.Targets(ctx)
	require.NoError(t, err)
	require.Len(t, targets, 1)
	assert.Equal(t, "http://127.0.0.1:"+port+"/metrics", targets[0].URL)

	// The rule from alert_rules fires.
	var alerts []Alert
	require.NoError(t, poll.Until(ctx, 30*time.Second, 200*time.Millisecond, func() (bool, error) {
		alerts, err = s.Alerts(ctx)
		return slices.ContainsFunc(alerts, func(a Alert) bool { return a.State == "firing" }), err
	}, "the alert to fire"))
	assert.Equal(t, "SandboxValueHigh", alerts[0].Labels["alertname"])
	assert.Equal(t, "mirrormaker-k8s/0", alerts[0].Labels["juju_unit"])
	assert.Equal(t, "value 5 on mirrormaker-k8s/0", alerts[0].Annotations["summary"])

	// A reload takes new relation data: a second unit, no more rules.
	units["mirrormaker-k8s/1"] = map[string]string{
		"prometheus_scrape_unit_address": "127.0.0.2", "prometheus_scrape_unit_name": "mirrormaker-k8s/1"}
	delete(app, "alert_rules")
	require.NoError(t, s.Configure(ctx, app, units))
	require.NoError(t, poll.Until(ctx, 30*time.Second, 200*time.Millisecond, func() (bool, error) {
		targets, err = s.Targets(ctx)
		if err != nil || len(targets) != 2 {
			return false, err
		}
		return targets[0].Health != "unknown" && targets[1].Health != "unknown", nil
	}, "both units' targets to be scraped"))
	health := map[string]string{}
	for _, tg := range targets {
		health[tg.Labels["juju_unit"]] = tg.Health
		if tg.Health == "down" {
			assert.NotEmpty(t, tg.LastError)
		}
	}
	assert.Equal(t, map[string]string{"mirrormaker-k8s/0": "up", "mirrormaker-k8s/1": "down"}, health,
		"the exporter listens on 127.0.0.1 only")
	require.NoError(t, poll.Until(ctx, 30*time.Second, 200*time.Millisecond, func() (bool, error) {
		alerts, err = s.Alerts(ctx)
		return len(alerts) == 0, err
	}, "the alert to go with its rule"))

	// Prometheus refusing a config is Configure's error, with its reason.
	app["alert_rules"] = `{"groups":[{"name":"bad","rules":[{"alert":"Bad","expr":"sum(("}]}]}`
	err = s.Configure(ctx, app, units)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot reload prometheus")
}
