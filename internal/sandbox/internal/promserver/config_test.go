package promserver

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testUUID = "8b1b5f6e-2c1d-4b8a-9d6a-3f2e1c0b9a87"

func metadata(t *testing.T) string {
	t.Helper()
	data, err := json.Marshal(map[string]string{"model": "migration", "model_uuid": testUUID,
		"application": "mirrormaker-k8s", "unit": "mirrormaker-k8s/0", "charm_name": "mirrormaker-k8s"})
	require.NoError(t, err)
	return string(data)
}

func unitBags(addrs ...string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for i, a := range addrs {
		name := "mirrormaker-k8s/" + string(rune('0'+i))
		out[name] = map[string]string{"prometheus_scrape_unit_address": a, "prometheus_scrape_unit_name": name}
	}
	return out
}

func TestScrapeConfigs(t *testing.T) {
	prefix := "juju_migration_8b1b5f6e_mirrormaker-k8s_prometheus_scrape_"
	topo := map[string]any{"juju_model": "migration", "juju_model_uuid": testUUID,
		"juju_application": "mirrormaker-k8s", "juju_charm": "mirrormaker-k8s"}
	withUnit := func(unit string, extra map[string]any) map[string]any {
		out := map[string]any{"juju_unit": unit}
		for k, v := range topo {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	relabelUnit := map[string]any{"source_labels": []any{"juju_model", "juju_model_uuid", "juju_application", "juju_unit"},
		"separator": "_", "target_label": "instance", "regex": "(.*)"}
	relabelApp := map[string]any{"source_labels": []any{"juju_model", "juju_model_uuid", "juju_application"},
		"separator": "_", "target_label": "instance", "regex": "(.*)"}
	tests := []struct {
		name  string
		jobs  string
		meta  bool
		units map[string]map[string]string
		want  []map[string]any
	}{{
		name:  "a wildcard job becomes one job per unit with its address and the topology",
		jobs:  `[{"job_name":"mm2-jmx","static_configs":[{"targets":["*:9099"]}]}]`,
		meta:  true,
		units: unitBags("127.1.2.11", "127.1.2.12"),
		want: []map[string]any{{
			"job_name": prefix + "mm2-jmx-0", "metrics_path": "/metrics", "honor_labels": true,
			"static_configs":  []any{map[string]any{"targets": []any{"127.1.2.11:9099"}, "labels": withUnit("mirrormaker-k8s/0", nil)}},
			"relabel_configs": []any{relabelUnit},
		}, {
			"job_name": prefix + "mm2-jmx-1", "metrics_path": "/metrics", "honor_labels": true,
			"static_configs":  []any{map[string]any{"targets": []any{"127.1.2.12:9099"}, "labels": withUnit("mirrormaker-k8s/1", nil)}},
			"relabel_configs": []any{relabelUnit},
		}},
	}, {
		name:  "keys the consumer does not allow are dropped; the provider's labels win",
		jobs:  `[{"job_name":"x","metrics_path":"/m","honor_timestamps":false,"static_configs":[{"targets":["*:1"],"labels":{"juju_unit":"mine","a":"b"}}]}]`,
		meta:  true,
		units: unitBags("127.1.2.11"),
		want: []map[string]any{{
			"job_name": prefix + "x-0", "metrics_path": "/m", "honor_labels": true,
			"static_configs":  []any{map[string]any{"targets": []any{"127.1.2.11:1"}, "labels": withUnit("mine", map[string]any{"a": "b"})}},
			"relabel_configs": []any{relabelUnit},
		}},
	}, {
		name:  "a target at a unit's address is that unit's; others keep one job without juju_unit",
		jobs:  `[{"job_name":"x","static_configs":[{"targets":["127.1.2.11:1","example.com:2"]}]}]`,
		meta:  true,
		units: unitBags("127.1.2.11"),
		want: []map[string]any{{
			"job_name": prefix + "x-0", "metrics_path": "/metrics", "honor_labels": true,
			"static_configs":  []any{map[string]any{"targets": []any{"127.1.2.11:1"}, "labels": withUnit("mirrormaker-k8s/0", nil)}},
			"relabel_configs": []any{relabelUnit},
		}, {
			"job_name": prefix + "x", "metrics_path": "/metrics", "honor_labels": true,
			"static_configs":  []any{map[string]any{"targets": []any{"example.com:2"}, "labels": topo}},
			"relabel_configs": []any{relabelApp},
		}},
	}, {
		name:  "no units: no jobs",
		jobs:  `[{"job_name":"x","static_configs":[{"targets":["*:1"]}]}]`,
		meta:  true,
		units: nil,
	}, {
		name:  "no scrape_metadata: the jobs as sent",
		jobs:  `[{"job_name":"x","static_configs":[{"targets":["*:1"]}]}]`,
		units: unitBags("127.1.2.11"),
		want: []map[string]any{{"job_name": "x", "honor_labels": true,
			"static_configs": []any{map[string]any{"targets": []any{"*:1"}}}}},
	}, {
		name:  "a job without static_configs gets the default *:80",
		jobs:  `[{"job_name":"x"}]`,
		meta:  true,
		units: unitBags("127.1.2.11"),
		want: []map[string]any{{
			"job_name": prefix + "x-0", "metrics_path": "/metrics", "honor_labels": true,
			"static_configs":  []any{map[string]any{"targets": []any{"127.1.2.11:80"}, "labels": withUnit("mirrormaker-k8s/0", nil)}},
			"relabel_configs": []any{relabelUnit},
		}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := map[string]string{"scrape_jobs": tt.jobs}
			if tt.meta {
				app["scrape_metadata"] = metadata(t)
			}
			got, err := ScrapeConfigs(app, tt.units)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestScrapeConfigsRefusesAnInvalidModelUUID(t *testing.T) {
	_, err := ScrapeConfigs(map[string]string{
		"scrape_jobs":     `[{"static_configs":[{"targets":["*:1"]}]}]`,
		"scrape_metadata": `{"model":"m","model_uuid":"not-a-uuid","application":"a"}`,
	}, unitBags("127.0.0.1"))
	assert.ErrorContains(t, err, "not a valid UUID")
}

func TestRuleFiles(t *testing.T) {
	labelled := `{"groups":[{"name":"g","rules":[{"alert":"A","expr":"up{%%juju_topology%%} < 1",
		"labels":{"juju_model":"migration","juju_model_uuid":"` + testUUID + `","juju_application":"mirrormaker-k8s"}}]}]}`
	unlabelled := `{"groups":[{"name":"plain","rules":[{"alert":"A","expr":"up < 1"}]}]}`
	tests := []struct {
		name     string
		app      map[string]string
		wantFile string
		wantExpr string
	}{
		{"named by the rules' topology, placeholder stripped", map[string]string{"alert_rules": labelled},
			"juju_migration_8b1b5f6e_mirrormaker-k8s_metrics-endpoint_7.rules", "up{} < 1"},
		{"named by scrape_metadata when the rules carry no topology", map[string]string{"alert_rules": unlabelled, "scrape_metadata": `{"model":"m","model_uuid":"` + testUUID + `","application":"app"}`},
			"juju_m_8b1b5f6e_app_metrics-endpoint_7.rules", "up < 1"},
		{"named by the first group otherwise", map[string]string{"alert_rules": unlabelled},
			"juju_plain_metrics-endpoint_7.rules", "up < 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := RuleFiles(tt.app, unitBags("127.0.0.1"), 7)
			require.NoError(t, err)
			require.Contains(t, files, tt.wantFile)
			rule := files[tt.wantFile]["groups"].([]any)[0].(map[string]any)["rules"].([]any)[0].(map[string]any)
			assert.Equal(t, tt.wantExpr, rule["expr"])
		})
	}
	files, err := RuleFiles(map[string]string{"alert_rules": labelled}, nil, 7)
	require.NoError(t, err)
	assert.Empty(t, files, "no units, no rules")
}
