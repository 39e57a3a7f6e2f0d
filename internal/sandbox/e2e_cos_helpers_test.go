package sandbox

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/cos"
	"mirrormaker-k8s/internal/sandbox/internal/fakeloki"
	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/internal/promserver"
	"mirrormaker-k8s/internal/sandbox/jujusim"
)

// observability is the Canonical Observability Stack as the sandbox plays it: a real Prometheus
// configured from what the charm publishes on metrics-endpoint, exactly as the Prometheus charm
// reads it, and a Loki push endpoint that Pebble forwards the units' logs to.
type observability struct {
	m    *migration
	prom *promserver.Server
	loki *fakeloki.Server
}

// relateCOS starts Prometheus and Loki, relates the three COS endpoints and configures
// Prometheus from the relation data.
func (m *migration) relateCOS() *observability {
	m.t.Helper()
	o := &observability{m: m}
	var err error
	o.loki, err = fakeloki.Start()
	require.NoError(m.t, err)
	m.t.Cleanup(func() { o.loki.Close() })
	o.prom, err = promserver.Start(m.ctx, filepath.Join(m.t.TempDir(), "prometheus"))
	require.NoError(m.t, err)
	m.t.Cleanup(func() {
		if m.t.Failed() {
			if tail, err := os.ReadFile(o.prom.LogPath()); err == nil && len(tail) > 0 {
				m.t.Logf("prometheus log (last 2 KB):\n%s", tail[max(0, len(tail)-2048):])
			}
		}
		assert.NoError(m.t, o.prom.Stop())
	})
	for endpoint, p := range map[string]jujusim.Provider{
		jujusim.LoggingEndpoint:   jujusim.NewLokiProvider(o.loki.URL()),
		jujusim.MetricsEndpoint:   jujusim.NewPrometheusConsumer(),
		jujusim.DashboardEndpoint: jujusim.NewGrafanaConsumer(),
	} {
		_, err := m.sim.Relate(m.ctx, endpoint, p)
		require.NoError(m.t, err, endpoint)
	}
	o.configure()
	return o
}

// configure gives Prometheus the scrape jobs, units and rules the relation holds now, as the
// Prometheus charm does on each relation-changed.
func (o *observability) configure() {
	o.m.t.Helper()
	app, units, err := o.m.sim.RelationData(o.m.ctx, jujusim.MetricsEndpoint)
	require.NoError(o.m.t, err)
	require.NotEmpty(o.m.t, app["scrape_jobs"], "the leader publishes the scrape jobs")
	require.NoError(o.m.t, o.prom.Configure(o.m.ctx, app, units))
}

// value is the single value of an instant query, ok=false when it returned no sample.
func (o *observability) value(promql string) (float64, bool) {
	o.m.t.Helper()
	v, err := o.prom.Query(o.m.ctx, promql)
	require.NoError(o.m.t, err, promql)
	if len(v) == 0 {
		return 0, false
	}
	require.Len(o.m.t, v, 1, "%s: want one sample, got %v", promql, v)
	return v[0].Value, true
}

// waitValue polls promql until ok(value) holds, and returns the last value.
func (o *observability) waitValue(timeout time.Duration, promql string, ok func(float64) bool) float64 {
	o.m.t.Helper()
	var last float64
	var seen bool
	err := poll.Until(o.m.ctx, timeout, time.Second, func() (bool, error) {
		last, seen = o.value(promql)
		return seen && ok(last), nil
	}, "Prometheus: "+promql)
	require.NoError(o.m.t, err, "last value %v (seen %v)", last, seen)
	return last
}

// recordsBehind is what a user's dashboard shows: the sum of the exporter's per-partition figure.
const recordsBehind = `sum(mirrormaker_records_behind)`

// assertEveryUsedMetricScraped checks that each metric name the dashboard and the alert rules use
// was scraped: no panel or rule rests on a series that never appears.
func (o *observability) assertEveryUsedMetricScraped() {
	o.m.t.Helper()
	used, err := cos.MetricNames()
	require.NoError(o.m.t, err)
	var missing []string
	err = poll.Until(o.m.ctx, time.Minute, 2*time.Second, func() (bool, error) {
		scraped, err := o.prom.MetricNames(o.m.ctx)
		if err != nil {
			return false, err
		}
		missing = missing[:0]
		for _, n := range used {
			if !slices.Contains(scraped, n) {
				missing = append(missing, n)
			}
		}
		return len(missing) == 0, nil
	}, "every metric the dashboard and the rules use to be scraped")
	assert.NoError(o.m.t, err, "never scraped: %v", missing)
}

// firing returns the firing alerts named name, by unit.
func (o *observability) firing(name string) map[string]bool {
	o.m.t.Helper()
	alerts, err := o.prom.Alerts(o.m.ctx)
	require.NoError(o.m.t, err)
	out := map[string]bool{}
	for _, a := range alerts {
		if a.Labels["alertname"] == name && a.State == "firing" {
			out[a.Labels["juju_unit"]] = true
		}
	}
	return out
}

// scrape reads a unit's endpoint as Prometheus does.
func (o *observability) scrape(unit string, port int) string {
	o.m.t.Helper()
	addr := o.m.unitAddress(unit)
	resp, err := http.Get(fmt.Sprintf("http://%s/metrics", net.JoinHostPort(addr, strconv.Itoa(port))))
	require.NoError(o.m.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(o.m.t, err)
	require.Equal(o.m.t, http.StatusOK, resp.StatusCode, "%s:%d/metrics", addr, port)
	return string(body)
}

// assertNoPasswordLeaks looks for every relation password in what COS receives: each unit's
// two metrics pages, every label Prometheus holds, every log line and label Loki received, and
// the exporter's command line and environment in each pod.
func (o *observability) assertNoPasswordLeaks() {
	o.m.t.Helper()
	var where []string
	var texts []string
	for _, u := range o.m.units() {
		texts = append(texts, o.scrape(u, cos.JMXPort), o.scrape(u, cos.MigrationPort))
		where = append(where, u+" jmx", u+" exporter")
		for _, pid := range o.m.pod(u).Processes() {
			for _, f := range []string{"cmdline", "environ"} {
				data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f))
				if err == nil {
					texts = append(texts, string(data))
					where = append(where, fmt.Sprintf("%s pid %d %s", u, pid, f))
				}
			}
		}
	}
	series, err := o.prom.Query(o.m.ctx, `{__name__=~".+"}`)
	require.NoError(o.m.t, err)
	var labels strings.Builder
	for _, s := range series {
		for k, v := range s.Labels {
			labels.WriteString(k + "=" + v + "\n")
		}
	}
	texts, where = append(texts, labels.String()), append(where, "Prometheus labels")
	var logs strings.Builder
	for _, s := range o.loki.Streams() {
		for k, v := range s.Labels {
			logs.WriteString(k + "=" + v + "\n")
		}
		for _, e := range s.Entries {
			logs.WriteString(e.Line + "\n")
		}
	}
	texts, where = append(texts, logs.String()), append(where, "Loki")
	o.m.mu.Lock()
	passwords := slices.Clone(o.m.passwords)
	o.m.mu.Unlock()
	require.NotEmpty(o.m.t, passwords)
	for _, pw := range passwords {
		for i, text := range texts {
			assert.NotContains(o.m.t, text, pw, "a password in %s", where[i])
		}
	}
}

// unitAddress is the unit's pod address, as network-get gives it.
func (m *migration) unitAddress(unit string) string {
	m.t.Helper()
	model, err := m.sim.Model(m.ctx)
	require.NoError(m.t, err)
	return model.Addresses[unit]
}

// logScrapes says, for a failure's message, how each target's scrapes went and what the copy's
// figures were over the last minutes.
func (o *observability) logScrapes() {
	targets, err := o.prom.Targets(o.m.ctx)
	if err != nil {
		o.m.t.Logf("cannot list Prometheus targets: %v", err)
	}
	for _, tg := range targets {
		o.m.t.Logf("target %s %s: %s %s (last scrape %s)", tg.Job, tg.URL, tg.Health, tg.LastError, tg.LastScrape.Format(time.TimeOnly))
	}
	for _, q := range []string{`count(kafka_connect_mirror_source_connector_record_rate)`,
		`max_over_time(sum(kafka_connect_mirror_source_connector_record_count)[10m:5s])`,
		`min_over_time(sum(kafka_connect_mirror_source_connector_record_count)[10m:5s])`} {
		v, err := o.prom.Query(o.m.ctx, q)
		o.m.t.Logf("%s = %v (%v)", q, v, err)
	}
}
