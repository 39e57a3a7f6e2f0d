package cos

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMetricNamesOfAnExpression(t *testing.T) {
	for _, tc := range []struct {
		name, expr string
		want       []string
	}{
		{"bare metric", `up`, []string{"up"}},
		{"matchers are labels, not metrics", `up{job="x",juju_unit=~"a.*"} == 0`, []string{"up"}},
		{"functions and ranges", `rate(foo_total[5m]) / irate(bar:baz[1h30m])`, []string{"bar:baz", "foo_total"}},
		{"aggregation with by before", `sum by (topic, partition) (x)`, []string{"x"}},
		{"aggregation with without after", `max(y) without (instance)`, []string{"y"}},
		{"on, ignoring, group_left label lists", `a * on (juju_unit) group_left (area) b + c / ignoring (job) d`,
			[]string{"a", "b", "c", "d"}},
		{"and, or, unless, bool", `a > bool 1 and b or c unless d`, []string{"a", "b", "c", "d"}},
		{"offset and @", `e offset 5m + f @ start()`, []string{"e", "f"}},
		{"strings are not metrics", `label_replace(g, "dst", "$1", "src", "(.*)")`, []string{"g"}},
		{"single-quoted and raw strings", `h{a='x"y', b=` + "`z\\d`" + `}`, []string{"h"}},
		{"numbers, Inf and NaN", `i > 1e3 or j < -Inf or k != NaN or l > 0x1f`, []string{"i", "j", "k", "l"}},
		{"__name__ matcher", `{__name__="m", job="x"}`, []string{"m"}},
		{"subquery", `max_over_time(deriv(n[5m])[30m:1m])`, []string{"n"}},
		{"Grafana variables", `sum by (topic) (rate(o{juju_unit=~"$juju_unit"}[$__rate_interval]))`, []string{"o"}},
		{"the placeholder is not PromQL", `absent(p{%%juju_topology%%})`, nil}, // strip it first
		{"topk parameter", `topk(5, r)`, []string{"r"}},
		{"aggregator names as keyword-like prefixes", `count_values("v", s) + group(t)`, []string{"s", "t"}},
		{"duplicates once, sorted", `z + a + z`, []string{"a", "z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := metricNames(tc.expr)
			if tc.want == nil {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestMetricNamesRefusesBrokenExpressions(t *testing.T) {
	for _, expr := range []string{`up{job="x}`, `up{job}`, `up{job=="x"}`, `rate(x[5m)`, `up{job="x"`, `a ; b`} {
		_, err := metricNames(expr)
		assert.Error(t, err, expr)
	}
}

// The injection must print what cos-tool (Prometheus' printer) prints: matchers sorted, no
// spaces, existing matchers on the same label kept. TestPublishedExprsArePrometheusCanonical
// checks the whole rule file against a real Prometheus.
func TestInjectMatchers(t *testing.T) {
	topo := map[string]string{"juju_model": "m", "juju_application": "a"}
	for _, tc := range []struct{ in, want string }{
		{`up < 1`, `up{juju_application="a",juju_model="m"} < 1`},
		{`up{} == 0`, `up{juju_application="a",juju_model="m"} == 0`},
		{`up{job=~".*x.*"} == 0`, `up{job=~".*x.*",juju_application="a",juju_model="m"} == 0`},
		{`up{juju_model="other"}`, `up{juju_application="a",juju_model="other"}`},
		{`sum by (topic) (rate(x[5m])) > 0`, `sum by (topic) (rate(x{juju_application="a",juju_model="m"}[5m])) > 0`},
		{`absent(up)`, `absent(up{juju_application="a",juju_model="m"})`},
		{`a / on (juju_unit) group_left () b`, `a{juju_application="a",juju_model="m"} / on (juju_unit) group_left () b{juju_application="a",juju_model="m"}`},
		{`{__name__="x"}`, `{__name__="x",juju_application="a",juju_model="m"}`},
		{`y{v='q"u'}`, `y{juju_application="a",juju_model="m",v="q\"u"}`},
		{`time() - z`, `time() - z{juju_application="a",juju_model="m"}`},
	} {
		got, err := injectMatchers(tc.in, topo)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}
