package charm

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strconv"

	"mirrormaker-k8s/internal/exporter"
	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/workload"
)

// exporterService is the Pebble service of the migration exporter on every unit.
const exporterService = "mm2-exporter"

// exporterBinary is this charm's own executable, pushed into the workload container to run as
// the migration exporter. The name carries the build's identity, so a new charm revision's
// binary is a new file and a new command line, which restarts the exporter on it; an unchanged
// one is neither pushed nor restarted.
type exporterBinary struct {
	path string // on this (the charm's) side
	id   string // size and modification time: what tells two builds apart without reading them
}

// ownBinary finds the executable this dispatch runs; ok is false when it cannot be stat'ed
// (then no exporter runs: the charm's own work goes on).
func ownBinary() (exporterBinary, bool) {
	p, err := os.Executable()
	if err != nil {
		return exporterBinary{}, false
	}
	fi, err := os.Stat(p)
	if err != nil {
		return exporterBinary{}, false
	}
	return exporterBinary{path: p, id: strconv.FormatInt(fi.Size(), 36) + "-" + strconv.FormatInt(fi.ModTime().UnixNano(), 36)}, true
}

// inContainer is where the binary lives in the workload container.
func (b exporterBinary) inContainer() string {
	return path.Join(exporter.BinDir, "mirrormaker-k8s-"+b.id)
}

func (b exporterBinary) open() (io.ReadCloser, error) { return os.Open(b.path) }

// exporterPhase is the last cutover phase the leader recorded.
func exporterPhase(p peers) int {
	if p.migration() == migrationComplete {
		return exporter.PhaseProducers
	}
	if _, ok := p.consumersMoved(); ok {
		return exporter.PhaseConsumers
	}
	return exporter.PhaseNone
}

// exporterConfig is what the exporter is told: the same clusters and flow the status measures
// with, less the passwords, which it reads from MM2's secrets file.
func exporterConfig(v view) exporter.Config {
	side := func(c *mm2.Cluster) *exporter.Cluster {
		if c == nil {
			return nil
		}
		return &exporter.Cluster{
			Alias: c.Alias, BootstrapServers: c.BootstrapServers, SecurityProtocol: c.SecurityProtocol,
			Mechanism: c.Mechanism, Username: c.Username, CA: c.CA,
		}
	}
	return exporter.Config{
		// The exporter measures when the status line does: on the leader, while mirroring and
		// nothing blocks. After the cutover the source is often switched off, and measuring it
		// would only raise alerts.
		Active:          v.measures(),
		Mirroring:       v.peers.migrating(),
		CutoverPhase:    exporterPhase(v.peers),
		IntervalSeconds: v.cfg.metricsInterval,
		SecretsPath:     mm2.SecretsPath,
		Source:          side(v.source.cluster),
		Target:          side(v.target.cluster),
		Flow:            mm2.NewFlow(v.cfg.sourceAlias, v.cfg.targetAlias, v.cfg.settings),
	}
}

// withExporter adds the exporter to d: its config file (pushing it restarts nothing: the
// exporter reads it every round), its binary and its service, listening on the unit's address.
func withExporter(d *workload.Desired, v view, bin exporterBinary, address string) error {
	data, err := exporterConfig(v).Marshal()
	if err != nil {
		return err
	}
	d.Files = append(d.Files, workload.File{
		Path: exporter.ConfigPath, Content: data, Perm: 0o644, User: workloadUser, Group: workloadUser, Quiet: true,
	})
	d.Executable = &workload.Executable{Path: bin.inContainer(), Open: bin.open}
	d.Companion = &workload.Companion{
		Name:    exporterService,
		Summary: "the migration exporter: records behind and groups synced for Prometheus",
		Command: fmt.Sprintf("%s export --listen %s --config %s", bin.inContainer(),
			net.JoinHostPort(address, strconv.Itoa(exporter.Port)), exporter.ConfigPath),
		User:  workloadUser,
		Group: workloadUser,
	}
	return nil
}

// withObservability adds to d what COS needs of the container: the exporter (config, binary,
// service) and, but in update-status, the log targets of the logging relations.
func (c *Charm) withObservability(ctx context.Context, d *workload.Desired, v view, address string) error {
	if c.binary != nil {
		if bin, ok := c.binary(); ok {
			if err := withExporter(d, v, bin, address); err != nil {
				return err
			}
		}
	}
	if c.cache.hit {
		// Relations change only with a hook of their own: update-status, which reuses what the
		// last hook read, leaves the log targets as they are.
		return nil
	}
	targets, err := c.logTargets(ctx)
	if err != nil {
		return err
	}
	d.LogTargets = targets
	return nil
}

// applyObservability keeps the exporter and the log targets in line while MM2 is stopped for a
// blocker: Prometheus scrapes every unit whatever the migration's state (an exporter missing
// there pages someone), a leader that changed meanwhile must hand over the measuring, and the
// logs of a stopped unit are the ones its operator reads.
func (c *Charm) applyObservability(ctx context.Context, v view) error {
	address, err := c.address(ctx)
	if err != nil {
		return err
	}
	var d workload.Desired // no MM2 service: its part of the plan is left alone
	if err := c.withObservability(ctx, &d, v, address); err != nil {
		return err
	}
	_, err = c.applyWorkload(d)
	if err = c.exporterFailed(ctx, err); err != nil {
		return fmt.Errorf("cannot apply the migration exporter: %w", err)
	}
	return nil
}

// exporterFailed logs a failed Pebble change of the exporter and returns what else err holds:
// the exporter is for Prometheus, the migration does not wait for it, and Pebble keeps
// restarting it; its scrape target going down tells the dashboards.
func (c *Charm) exporterFailed(ctx context.Context, err error) error {
	if !changeFailed(err, exporterService) {
		return err
	}
	c.logf(ctx, "WARNING", "the migration exporter is not running: %v", err)
	return withoutChangesOf(err, exporterService)
}
