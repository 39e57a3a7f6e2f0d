package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/jujusim"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// clusterRecord is how a cluster started by `up` is found by later calls.
// The file holding it is 0600: it carries the admin password.
type clusterRecord struct {
	App       string `json:"app"`
	Name      string `json:"name"`
	Bootstrap string `json:"bootstrap"`
	Username  string `json:"username"`
	Password  string `json:"password"`
	Dir       string `json:"dir"`
	Pid       int    `json:"pid"`
	DistHome  string `json:"dist-home"`
	Version   string `json:"dist-version"`
}

// cliEndpoints maps a charm endpoint to the cluster `up` starts for it.
var cliEndpoints = map[string]struct{ app, name string }{
	"source": {"kafka-old", "old"},
	"target": {"kafka-k8s", "new"},
}

func (c *cli) recordsPath() string { return filepath.Join(c.dir, "clusters.json") }

func (c *cli) records() (map[string]clusterRecord, error) {
	data, err := os.ReadFile(c.recordsPath())
	if err != nil {
		return nil, fmt.Errorf("cannot read clusters (run `sandbox up` first): %w", err)
	}
	recs := map[string]clusterRecord{}
	if err := json.Unmarshal(data, &recs); err != nil {
		return nil, fmt.Errorf("cannot parse clusters: %w", err)
	}
	return recs, nil
}

// up starts both clusters detached and records them.
func (c *cli) up(ctx context.Context) error {
	if exists(c.recordsPath()) {
		return fmt.Errorf("cannot start clusters: already up (see %s); run `sandbox down` first", c.recordsPath())
	}
	dist, err := localkafka.FindKafkaDist()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("cannot create state dir: %w", err)
	}
	recs := map[string]clusterRecord{}
	for _, ep := range []string{"source", "target"} {
		e := cliEndpoints[ep]
		cl, err := localkafka.StartCluster(ctx, dist, localkafka.ClusterOptions{Name: e.name, Dir: filepath.Join(c.dir, e.app), Detached: true})
		if err != nil {
			return errors.Join(err, c.stopClusters(recs))
		}
		recs[ep] = clusterRecord{App: e.app, Name: cl.Name, Bootstrap: cl.Bootstrap, Username: cl.Admin.Username,
			Password: cl.Admin.Password, Dir: cl.Dir, Pid: cl.Pid, DistHome: dist.Home, Version: dist.Version}
		fmt.Fprintf(c.out, "%s (%s) up at %s, pid %d\n", e.app, ep, cl.Bootstrap, cl.Pid)
	}
	data, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode clusters: %w", err)
	}
	if err := os.WriteFile(c.recordsPath(), data, 0o600); err != nil {
		return errors.Join(fmt.Errorf("cannot record clusters: %w", err), c.stopClusters(recs))
	}
	return nil
}

// provider plays the cluster `up` started for endpoint.
func (c *cli) provider(endpoint string, plain bool) (jujusim.Provider, error) {
	recs, err := c.records()
	if err != nil {
		return nil, err
	}
	rec, ok := recs[endpoint]
	if !ok {
		return nil, fmt.Errorf("cannot relate %q: endpoint must be source or target", endpoint)
	}
	cl := rec.cluster()
	style := jujusim.SecretFields
	if plain {
		style = jujusim.PlainFields
	}
	return jujusim.NewKafkaProvider(rec.App, rec.Bootstrap, cl.CreateUser, style), nil
}

// cluster rebuilds enough of a Cluster started by an earlier call to talk
// to it as admin.
func (r clusterRecord) cluster() *localkafka.Cluster {
	return &localkafka.Cluster{Name: r.Name, Bootstrap: r.Bootstrap, Admin: localkafka.Credentials{Username: r.Username, Password: r.Password},
		Dir: r.Dir, Pid: r.Pid, Dist: localkafka.KafkaDist{Home: r.DistHome, Version: r.Version}}
}

// down tears down pods, then clusters, then removes the state dir.
func (c *cli) down() error {
	var errs []error
	if exists(filepath.Join(c.dir, "juju", "sim.json")) {
		if sim, err := c.sim(false); err == nil {
			errs = append(errs, sim.Close())
		} else {
			errs = append(errs, err)
		}
	}
	if recs, err := c.records(); err == nil {
		errs = append(errs, c.stopClusters(recs))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return os.RemoveAll(c.dir)
}

// stopClusters stops each recorded broker's process group: SIGTERM, then
// SIGKILL after a grace period, polling until it is gone.
func (c *cli) stopClusters(recs map[string]clusterRecord) error {
	var errs []error
	for _, r := range recs {
		if syscall.Kill(-r.Pid, syscall.SIGTERM) != nil {
			continue // already gone
		}
		gone := func() bool { return syscall.Kill(-r.Pid, 0) != nil }
		if poll.For(30*time.Second, gone) {
			continue
		}
		_ = syscall.Kill(-r.Pid, syscall.SIGKILL)
		if !poll.For(10*time.Second, gone) {
			errs = append(errs, fmt.Errorf("cannot stop cluster %s (pid %d)", r.App, r.Pid))
		}
	}
	return errors.Join(errs...)
}
