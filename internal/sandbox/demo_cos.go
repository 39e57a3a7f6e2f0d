package sandbox

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"mirrormaker-k8s/internal/sandbox/internal/fakeloki"
	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/internal/promserver"
	"mirrormaker-k8s/internal/sandbox/jujusim"
)

// demoRecordsBehind is the query of the dashboard's "records behind" panel, without its topology
// filter: the demo's Prometheus scrapes one application.
const demoRecordsBehind = `sum(mirrormaker_records_behind)`

// relateCOS starts a Prometheus and a Loki endpoint and relates the charm to them as a user
// relates it to COS, then configures Prometheus from what the charm published.
func (d *demo) relateCOS(ctx context.Context, dir string) error {
	var err error
	if d.loki, err = fakeloki.Start(); err != nil {
		return err
	}
	if d.prom, err = promserver.Start(ctx, filepath.Join(dir, "prometheus")); err != nil {
		return err
	}
	for _, r := range []struct {
		endpoint, app string
		p             jujusim.Provider
	}{
		{jujusim.MetricsEndpoint, "prometheus", jujusim.NewPrometheusConsumer()},
		{jujusim.DashboardEndpoint, "grafana", jujusim.NewGrafanaConsumer()},
		{jujusim.LoggingEndpoint, "loki", jujusim.NewLokiProvider(d.loki.URL())},
	} {
		d.cmd(fmt.Sprintf("juju relate mirrormaker-k8s:%s %s", r.endpoint, r.app))
		if _, err := d.sim.Relate(ctx, r.endpoint, r.p); err != nil {
			return err
		}
	}
	app, units, err := d.sim.RelationData(ctx, jujusim.MetricsEndpoint)
	if err != nil {
		return err
	}
	if err := d.prom.Configure(ctx, app, units); err != nil {
		return err
	}
	d.say("Prometheus (%s) scrapes MM2's JMX exporter and the migration exporter on both units", d.prom.URL())
	return nil
}

// promRecordsBehind is the answer Prometheus gives now to the dashboard's records-behind query,
// as the demo prints it beside the status line.
func (d *demo) promRecordsBehind(ctx context.Context) string {
	if d.prom == nil {
		return "no Prometheus"
	}
	v, err := d.prom.Query(ctx, demoRecordsBehind)
	switch {
	case err != nil:
		return "cannot query: " + err.Error()
	case len(v) == 0:
		return "no sample yet"
	default:
		return strconv.FormatFloat(v[0].Value, 'f', -1, 64)
	}
}

// settledRecordsBehind is Prometheus' answer once the exporter's next measurement was scraped:
// the page Prometheus holds may predate the last records MM2 copied.
func (d *demo) settledRecordsBehind(ctx context.Context) string {
	answer := d.promRecordsBehind(ctx)
	_ = poll.Until(ctx, 30*time.Second, time.Second, func() (bool, error) {
		answer = d.promRecordsBehind(ctx)
		return answer == "0", nil
	}, "Prometheus to see the exporter's last measurement")
	return answer
}

// showLogs says how many of the units' log lines reached Loki, with their topology labels.
func (d *demo) showLogs() {
	if d.loki == nil {
		return
	}
	for _, s := range d.loki.Streams() {
		d.say("Loki: %d lines from %s on %s (juju_model=%s, charm=%s)", len(s.Entries), s.Labels["pebble_service"],
			s.Labels["juju_unit"], s.Labels["juju_model"], s.Labels["charm"])
	}
}

// stopCOS stops Prometheus and Loki.
func (d *demo) stopCOS() error {
	var errs []error
	if d.prom != nil {
		errs = append(errs, d.prom.Stop())
	}
	if d.loki != nil {
		errs = append(errs, d.loki.Close())
	}
	return errors.Join(errs...)
}
