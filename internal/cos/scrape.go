package cos

import "fmt"

// Ports and job names of the two metrics endpoints every unit serves.
const (
	// JMXPort is MM2's JMX exporter (javaagent): Connect, MirrorSourceConnector and JVM metrics.
	// It answers only while MM2 runs.
	JMXPort = 9099
	// MigrationPort is the migration exporter: records behind, groups synced, cutover phase.
	MigrationPort = 9098
	// JMXJob and MigrationJob name the scrape jobs. COS prefixes them with the topology and
	// suffixes the unit number (juju_<id>_prometheus_scrape_mm2-jmx-0), so the rules match
	// them with job=~".*mm2-jmx.*".
	JMXJob       = "mm2-jmx"
	MigrationJob = "mm2-migration"
	// MetricsPath is where both exporters serve (jmx_exporter 1.x serves only /metrics).
	MetricsPath = "/metrics"
)

// Keys of the prometheus_scrape relation data, as cos-lib's MetricsEndpointProvider writes
// them (prometheus-k8s-operator lib/charms/prometheus_k8s/v0/prometheus_scrape.py, LIBPATCH 61).
const (
	KeyScrapeJobs     = "scrape_jobs"
	KeyScrapeMetadata = "scrape_metadata"
	KeyAlertRules     = "alert_rules"

	KeyUnitAddress = "prometheus_scrape_unit_address"
	KeyUnitName    = "prometheus_scrape_unit_name"
	KeyUnitPath    = "prometheus_scrape_unit_path"
	KeyUnitFQDN    = "prometheus_scrape_unit_fqdn"
)

// scrapeJobs lists the jobs as the provider publishes them after its sanitize_scrape_config:
// DEFAULT_JOB's keys (metrics_path, static_configs) first, then the job's own (job_name). The
// "*" target stands for every unit: Prometheus makes one job per unit from the unit data, each
// series labelled with its juju_unit.
func scrapeJobs() []any {
	job := func(name string, port int) pyObject {
		return pyObject{
			{"metrics_path", MetricsPath},
			{"static_configs", []any{pyObject{{"targets", []any{fmt.Sprintf("*:%d", port)}}}}},
			{"job_name", name},
		}
	}
	return []any{job(JMXJob, JMXPort), job(MigrationJob, MigrationPort)}
}

// ScrapeAppData is the leader's app data on each metrics-endpoint (prometheus_scrape) relation:
// scrape_jobs, scrape_metadata and alert_rules, each the JSON string cos-lib's provider writes.
// The rules carry the topology's labels and matchers, so Prometheus evaluates them on this
// application's series only. Same topology, same bytes: the charm can write only on change.
func ScrapeAppData(t Topology) (map[string]string, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	rules, err := alertRules(t, true)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range map[string]any{
		KeyScrapeJobs: scrapeJobs(), KeyScrapeMetadata: t.metadata(), KeyAlertRules: rules,
	} {
		s, err := pyDumps(v)
		if err != nil {
			return nil, fmt.Errorf("cannot encode %s: %w", k, err)
		}
		out[k] = s
	}
	return out, nil
}

// ScrapeUnitData is every unit's own data on each metrics-endpoint relation: the address
// Prometheus replaces "*" with in the jobs' targets (the address both exporters listen on: the
// unit's pod address, which the charm reads once from its peer binding; on Kubernetes every
// binding of a pod has that address) and the unit's name, which becomes the juju_unit
// label. The path and FQDN keys are written empty, as the provider does when it knows neither;
// Prometheus then uses the jobs' metrics_path and the address.
func ScrapeUnitData(address, unit string) map[string]string {
	return map[string]string{
		KeyUnitAddress: address,
		KeyUnitName:    unit,
		KeyUnitPath:    "",
		KeyUnitFQDN:    "",
	}
}
