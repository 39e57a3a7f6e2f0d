package charm

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks/hookstest"
	"mirrormaker-k8s/internal/cos"
	"mirrormaker-k8s/internal/exporter"
	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/workload"
)

// relateCOS relates endpoint to a one-unit remote application and plays Juju's events for it.
func (h *harness) relateCOS(endpoint, remoteApp string, unitData map[string]string) *hookstest.Relation {
	h.t.Helper()
	rel := h.m.AddRelation(endpoint, remoteApp, remoteApp+"/0")
	h.everywhere(endpoint+"-relation-created", rel)
	if unitData != nil {
		require.NoError(h.t, h.m.SetRemoteUnitData(rel.ID, remoteApp+"/0", unitData))
	}
	for _, u := range h.m.Units {
		h.hook(u, endpoint+"-relation-joined", rel, remoteApp+"/0")
		h.hook(u, endpoint+"-relation-changed", rel, remoteApp+"/0")
	}
	return rel
}

func (h *harness) relationSets(from int) int {
	n := 0
	for _, c := range h.calls[from:] {
		if c.tool == "relation-set" {
			n++
		}
	}
	return n
}

// Prometheus learns from the relation where every unit is and what to scrape there: each unit
// its address and name, the leader the jobs, their topology and the alert rules.
func TestGivenPrometheusRelatedThenUnitsPublishAddressesAndTheLeaderTheJobs(t *testing.T) {
	h := newHarness(t, 2)
	h.ready()
	rel := h.relateCOS(MetricsEndpoint, "prometheus", nil)

	for i, u := range h.m.Units {
		d := rel.Data[u]
		assert.Equal(t, h.m.Addresses[u], d["prometheus_scrape_unit_address"], u)
		assert.Equal(t, u, d["prometheus_scrape_unit_name"], u)
		_ = i
	}
	appData := rel.Data[app]
	require.NotEmpty(t, appData["scrape_jobs"])
	var jobs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(appData["scrape_jobs"]), &jobs))
	var ports []string
	for _, j := range jobs {
		b, _ := json.Marshal(j["static_configs"])
		ports = append(ports, string(b))
	}
	assert.Contains(t, strings.Join(ports, " "), `*:9099`)
	assert.Contains(t, strings.Join(ports, " "), `*:9098`)
	assert.Contains(t, appData["scrape_metadata"], `"model": "migration"`)
	assert.Contains(t, appData["alert_rules"], "groups")

	// Nothing changed: another hook writes nothing, so Prometheus' side sees no relation-changed.
	from := len(h.calls)
	h.everywhere("config-changed", nil)
	assert.Zero(t, h.relationSets(from))
}

func TestGivenGrafanaRelatedThenTheLeaderPublishesTheDashboard(t *testing.T) {
	h := newHarness(t, 2)
	h.ready()
	rel := h.relateCOS(DashboardEndpoint, "grafana", nil)
	var dashboards struct {
		Templates map[string]map[string]any `json:"templates"`
	}
	require.NoError(t, json.Unmarshal([]byte(rel.Data[app]["dashboards"]), &dashboards))
	assert.Len(t, dashboards.Templates, 1)
	assert.Empty(t, rel.Data[h.unit(1)], "units publish nothing on grafana-dashboard")
}

// Pebble forwards the workload's logs to each Loki unit, labelled with the topology; when the
// relation goes, the targets stop receiving.
func TestGivenLokiRelatedThenPebbleForwardsLogsUntilItGoes(t *testing.T) {
	h := newHarness(t, 2)
	h.ready()
	rel := h.relateCOS(LoggingEndpoint, "loki", map[string]string{"endpoint": `{"url": "http://loki-0.loki-endpoints:3100/loki/api/v1/push"}`})
	for _, u := range h.m.Units {
		targets := h.workloads[u].logTargets
		require.Len(t, targets, 1, u)
		assert.Equal(t, workload.LogTarget{
			Name:     "mm2-loki-loki-0",
			Location: "http://loki-0.loki-endpoints:3100/loki/api/v1/push",
			Services: []string{"all"},
			Labels: map[string]string{"product": "Juju", "charm": "mirrormaker-k8s", "juju_model": "migration",
				"juju_model_uuid": h.m.ModelUUID, "juju_application": app, "juju_unit": u},
		}, targets[0])
	}

	rel.Broken = true
	h.everywhere(LoggingEndpoint+"-relation-broken", rel)
	for _, u := range h.m.Units {
		assert.NotNil(t, h.workloads[u].logTargets, u)
		assert.Empty(t, h.workloads[u].logTargets, "%s: no target wanted after relation-broken", u)
	}
}

// Every unit runs the exporter; only the leader's measures, it reads passwords from MM2's own
// secrets file, and neither its command line nor its config holds one. Leadership moving turns
// the exporters around without restarting MM2 anywhere.
func TestExporterRunsEverywhereAndMeasuresOnTheLeader(t *testing.T) {
	h := newHarness(t, 2)
	h.ready()
	h.everywhere("mirrormaker-pebble-ready", nil)
	h.action(h.unit(0), "start-migration", nil)
	h.peerChanged()

	configOf := func(u string) exporter.Config {
		f, ok := h.workloads[u].files[exporter.ConfigPath]
		require.True(t, ok, u)
		assert.True(t, f.Quiet, "pushing the exporter's config must not restart MM2")
		for _, pw := range []string{"src-Pa55word", "tgt-Pa55word"} {
			assert.NotContains(t, string(f.Content), pw)
		}
		var c exporter.Config
		require.NoError(t, json.Unmarshal(f.Content, &c))
		return c
	}
	for i, u := range h.m.Units {
		w := h.workloads[u]
		require.NotNil(t, w.companion, u)
		assert.Equal(t, "/opt/mirrormaker-k8s/bin/mirrormaker-k8s-build1 export --listen "+h.m.Addresses[u]+":9098 --config /etc/kafka/mm2-exporter.json", w.companion.Command)
		assert.Equal(t, "/opt/mirrormaker-k8s/bin/mirrormaker-k8s-build1", w.executable)
		c := configOf(u)
		assert.Equal(t, i == 0, c.Active, u)
		assert.True(t, c.Mirroring, u)
		assert.Equal(t, "/etc/kafka/mm2-secrets.properties", c.SecretsPath)
		require.NotNil(t, c.Source)
		assert.Equal(t, "relation-9", c.Source.Username)
		assert.Equal(t, 15, c.IntervalSeconds)
	}

	starts := map[string]int{}
	for _, u := range h.m.Units {
		starts[u] = h.workloads[u].starts
	}
	h.m.Leader = h.unit(1)
	h.hook(h.unit(1), "leader-elected", nil, "")
	h.hook(h.unit(0), "leader-settings-changed", nil, "")
	assert.False(t, configOf(h.unit(0)).Active)
	assert.True(t, configOf(h.unit(1)).Active)
	for _, u := range h.m.Units {
		assert.Equal(t, starts[u], h.workloads[u].starts, "%s: MM2 restarted for the exporter", u)
	}

	// Stopped, the migration is not measured, as the status line is not.
	h.action(h.unit(1), "stop-migration", nil)
	c := configOf(h.unit(1))
	assert.False(t, c.Active)
	assert.False(t, c.Mirroring)
}

// The scrape jobs name the ports the two exporters listen on; they are declared where each
// exporter lives, so a test keeps them together.
func TestScrapeJobsNameTheExportersPorts(t *testing.T) {
	assert.Equal(t, mm2.JMXPort, cos.JMXPort)
	assert.Equal(t, exporter.Port, cos.MigrationPort)
}
