package jujusim

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGivenPrometheusWhenRelateMetricsEndpointThenEachUnitPublishesItsOwnAddress(t *testing.T) {
	sim := newTestSim(t)
	ctx := context.Background()
	require.NoError(t, sim.Deploy(ctx, 2, nil))

	_, err := sim.Relate(ctx, MetricsEndpoint, NewPrometheusConsumer())
	require.NoError(t, err)

	for _, u := range []string{"mirrormaker-k8s/0", "mirrormaker-k8s/1"} {
		evs := events(t, sim, u)
		assert.Equal(t, []string{"hooks/metrics-endpoint-relation-created", "hooks/metrics-endpoint-relation-joined@prometheus/0",
			"hooks/metrics-endpoint-relation-changed@prometheus/0"}, evs[len(evs)-3:], u)
	}
	st, err := sim.Status(ctx)
	require.NoError(t, err)
	app, units, err := sim.RelationData(ctx, MetricsEndpoint)
	require.NoError(t, err)
	assert.Equal(t, `[{"job_name":"fake","static_configs":[{"targets":["*:9099"]}]}]`, app["scrape_jobs"], "the leader's app data")
	require.Len(t, units, 2)
	for _, u := range st.Units {
		assert.Equal(t, map[string]string{"prometheus_scrape_unit_address": u.Address, "prometheus_scrape_unit_name": u.Name},
			units[u.Name], "network-get answers for the relation's endpoint with the unit's own address")
	}
	assert.NotEqual(t, units["mirrormaker-k8s/0"]["prometheus_scrape_unit_address"], units["mirrormaker-k8s/1"]["prometheus_scrape_unit_address"])

	// A unit added later publishes too.
	added, err := sim.AddUnit(ctx)
	require.NoError(t, err)
	_, units, err = sim.RelationData(ctx, MetricsEndpoint)
	require.NoError(t, err)
	assert.Equal(t, added, units[added]["prometheus_scrape_unit_name"])

	_, _, err = sim.RelationData(ctx, DashboardEndpoint)
	assert.ErrorContains(t, err, "not related")
	_, err = sim.Relate(ctx, DashboardEndpoint, NewGrafanaConsumer())
	require.NoError(t, err)
	app, _, err = sim.RelationData(ctx, DashboardEndpoint)
	require.NoError(t, err)
	assert.Empty(t, app)
}

func TestGivenLokiWhenRelateLoggingThenUnitsReadItsPushURLFromItsUnitDatabag(t *testing.T) {
	sim := newTestSim(t)
	ctx := context.Background()
	require.NoError(t, sim.Deploy(ctx, 2, nil))
	const push = "http://127.0.0.1:3100/loki/api/v1/push"

	id, err := sim.Relate(ctx, LoggingEndpoint, NewLokiProvider(push))
	require.NoError(t, err)

	for _, u := range []string{"mirrormaker-k8s/0", "mirrormaker-k8s/1"} {
		data, err := os.ReadFile(filepath.Join(sim.UnitDir(u), "etc-kafka", "loki.json"))
		require.NoError(t, err, u)
		var endpoint string
		require.NoError(t, json.Unmarshal(data, &endpoint))
		assert.JSONEq(t, `{"url":"`+push+`"}`, endpoint, u)
	}
	m, err := sim.Model(ctx)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", m.Relation(id).Data["loki/0"]["public_address"])
	assert.Empty(t, m.Relation(id).Data["loki"], "loki's app databag holds nothing the charm reads")

	require.NoError(t, sim.RemoveRelation(ctx, LoggingEndpoint))
	evs := events(t, sim, "mirrormaker-k8s/0")
	assert.Equal(t, []string{"hooks/logging-relation-departed@loki/0", "hooks/logging-relation-broken"}, evs[len(evs)-2:])
}
