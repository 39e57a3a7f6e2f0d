// Package cos is what the charm publishes to the Canonical Observability Stack, without ops or
// cos-lib: the prometheus_scrape provider's app and unit data (two scrape jobs, the topology,
// the alert rules with the topology injected), the grafana_dashboard provider's app data (the
// dashboard, compressed as cosl's LZMABase64), and the metric names both read.
//
// Everything is a pure function of the Juju topology, written byte for byte as the Python
// libraries write it (json.dumps' layout, cos-tool's printing of expressions), so the charm can
// compare before writing and a databag reads the same as an ops charm's. The rule file and the
// dashboard are checked in (alert_rules/, dashboards/) and embedded; the rules are tested with
// promtool (alert_rules/tests) and the expressions against a real Prometheus.
package cos
