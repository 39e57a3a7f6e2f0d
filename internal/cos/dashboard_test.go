package cos

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// topologyVars are the dashboard's Juju topology variables; COS' Grafana adds any missing one.
var topologyVars = []string{"juju_model", "juju_model_uuid", "juju_application", "juju_unit"}

// TestDashboardPanelsReadPrometheusThroughTheVariable: every panel and every target names the
// ${prometheusds} datasource, which Grafana's charm binds to the related Prometheus; has a
// title and a description; ids are unique.
func TestDashboardPanelsReadPrometheusThroughTheVariable(t *testing.T) {
	dash, err := loadDashboard()
	require.NoError(t, err)
	panels := dashboardPanels(dash)
	require.NotEmpty(t, panels)
	ids := map[string]bool{}
	for _, p := range panels {
		title, _ := p.get("title")
		desc, _ := p.get("description")
		assert.NotEmpty(t, title)
		assert.NotEmpty(t, desc, "panel %q has no description", title)
		id, _ := p.get("id")
		idText, err := pyDumps(id)
		require.NoError(t, err)
		assert.False(t, ids[idText], "panel %q repeats id %s", title, idText)
		ids[idText] = true
		assertPrometheusDS(t, p, "panel %q", title)
		targets, _ := p.get("targets")
		require.NotEmpty(t, targets, "panel %q has no query", title)
		for _, tgt := range targets.([]any) {
			assertPrometheusDS(t, tgt.(pyObject), "a target of panel %q", title)
		}
	}
}

func assertPrometheusDS(t *testing.T, o pyObject, msg string, args ...any) {
	t.Helper()
	ds, _ := o.get("datasource")
	d, ok := ds.(pyObject)
	where := append([]any{msg}, args...)
	if !assert.True(t, ok, where...) {
		return
	}
	uid, _ := d.get("uid")
	typ, _ := d.get("type")
	assert.Equal(t, "${prometheusds}", uid, where...)
	assert.Equal(t, "prometheus", typ, where...)
}

// TestDashboardExprsFilterOnTheTopology: every selector of every panel query matches the four
// topology variables as regexes (the form COS' Grafana itself injects, so the dashboard reads
// the same with or without cos-tool there).
func TestDashboardExprsFilterOnTheTopology(t *testing.T) {
	exprs, err := dashboardExprs()
	require.NoError(t, err)
	n := 0
	for _, e := range exprs {
		if strings.HasPrefix(e.where, "variable") {
			continue
		}
		sels, err := selectors(e.expr)
		require.NoError(t, err, e.where)
		require.NotEmpty(t, sels, e.where)
		for _, s := range sels {
			have := map[string]matcher{}
			for _, m := range s.matchers {
				have[m.name] = m
			}
			for _, v := range topologyVars {
				assert.Equal(t, matcher{v, "=~", "$" + v}, have[v], "%s: %s in %s", e.where, s.metric, e.expr)
			}
			n++
		}
	}
	assert.Greater(t, n, 20)
}

func TestDashboardVariables(t *testing.T) {
	dash, err := loadDashboard()
	require.NoError(t, err)
	byName := map[string]pyObject{}
	for _, v := range dashboardVariables(dash) {
		name, _ := v.get("name")
		byName[name.(string)] = v
	}
	ds := byName["prometheusds"]
	require.NotNil(t, ds, "no prometheusds variable")
	typ, _ := ds.get("type")
	query, _ := ds.get("query")
	assert.Equal(t, "datasource", typ)
	assert.Equal(t, "prometheus", query)
	for _, name := range topologyVars {
		v := byName[name]
		require.NotNil(t, v, "no %s variable", name)
		typ, _ := v.get("type")
		all, _ := v.get("allValue")
		assert.Equal(t, "query", typ, name)
		assert.Equal(t, ".*", all, name, "All must match every value: the queries use =~")
		def, _ := v.get("definition")
		assert.Regexp(t, `^label_values\(.*,`+name+`\)$`, def, name)
	}
}

// TestMetricsAreAllowed: every metric the dashboard and rules read is in
// testdata/allowed-metrics.txt, so a typo'd name fails here rather than drawing nothing.
func TestMetricsAreAllowed(t *testing.T) {
	f, err := os.Open("testdata/allowed-metrics.txt")
	require.NoError(t, err)
	defer f.Close()
	allowed := map[string]bool{}
	valid := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		require.Regexp(t, valid, line)
		allowed[line] = true
	}
	require.NoError(t, sc.Err())

	names, err := MetricNames()
	require.NoError(t, err)
	assert.Greater(t, len(names), 20)
	for _, n := range names {
		assert.True(t, allowed[n], "%s is read by the dashboard or the rules but not allowed", n)
	}
	// The ones the brief asks the dashboard and rules to read.
	for _, n := range []string{"up", "mirrormaker_records_behind", "mirrormaker_cluster_up",
		"mirrormaker_mirroring", "kafka_connect_connector_task_status", "jvm_memory_used_bytes",
		"jvm_memory_max_bytes", "kafka_connect_mirror_source_connector_record_rate",
		"kafka_connect_mirror_source_connector_byte_rate",
		"kafka_connect_mirror_source_connector_replication_latency_ms_max",
		"mirrormaker_groups", "mirrormaker_group_synced", "mirrormaker_cutover_phase"} {
		assert.Contains(t, names, n)
	}
}

// TestRuleSelectorsCarryThePlaceholder: each selector of the checked-in rules starts with
// %%juju_topology%%, as cos-lib's documentation asks, so the file shows where the topology goes.
func TestRuleSelectorsCarryThePlaceholder(t *testing.T) {
	exprs, err := ruleExprs()
	require.NoError(t, err)
	require.NotEmpty(t, exprs)
	for _, e := range exprs {
		sels, err := selectors(e.expr)
		require.NoError(t, err, e.where)
		raw := rawExpr(t, e.where)
		assert.Equal(t, len(sels), strings.Count(raw, "{%%juju_topology%%"), "%s: %s", e.where, raw)
	}
}

// rawExpr is the checked-in expression of an alert (where is "alert <name>").
func rawExpr(t *testing.T, where string) string {
	t.Helper()
	name := strings.TrimPrefix(where, "alert ")
	re := regexp.MustCompile(`(?m)- alert: ` + regexp.QuoteMeta(name) + `\n\s+expr: (.*)$`)
	m := re.FindStringSubmatch(string(RulesFile))
	require.NotNil(t, m, where)
	return m[1]
}
