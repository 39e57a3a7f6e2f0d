package sandbox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/jujusim"
	"mirrormaker-k8s/internal/sandbox/localkafka"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// DirEnv names the environment variable holding the CLI's state dir.
const DirEnv = "SANDBOX_DIR"

// cliUsage is the CLI's help: verbs read like juju's so the demo reads like
// the real flow.
const cliUsage = `usage: sandbox VERB [ARGS]   (state in $SANDBOX_DIR, default ./.sandbox)

  up                              start the source (kafka-old) and target (kafka-k8s) Kafka clusters
  deploy [-n N] [--config k=v]... deploy the charm ($CHARM_FILE or build/mirrormaker-k8s.charm)
  relate source|target [--plain]  relate to kafka-old (source) or kafka-k8s (target)
  remove-relation source|target
  config k=v...                   set options (k= resets one); no args prints the config
  add-secret k=v...               add a user secret granted to the app; prints its URI
  run UNIT ACTION [k=v...]        run an action (UNIT may be "leader")
  status                          like juju status
  add-unit
  remove-unit UNIT
  update-status                   fire update-status on every unit
  down                            stop every pod and cluster and remove the state dir
  demo                            the whole migration flow on fresh clusters, narrated, then torn down
`

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

// CLI runs one sandbox verb (cmd/sandbox is a thin wrapper). Pods and
// clusters it starts outlive it; the next call finds them through the state
// dir. It returns the process exit code.
func CLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, cliUsage)
		return 0
	}
	dir := os.Getenv(DirEnv)
	if dir == "" {
		dir = ".sandbox"
	}
	c := &cli{dir: dir, out: stdout}
	if err := c.run(ctx, args[0], args[1:]); err != nil {
		fmt.Fprintf(stderr, "ERROR %v\n", err)
		return 1
	}
	return 0
}

type cli struct {
	dir string
	out io.Writer
}

func (c *cli) run(ctx context.Context, verb string, args []string) error {
	switch verb {
	case "up":
		return c.up(ctx)
	case "demo":
		return Demo(ctx, c.out, filepath.Join(c.dir, "demo"))
	case "down":
		return c.down()
	}
	sim, err := c.sim(verb == "deploy")
	if err != nil {
		return err
	}
	switch verb {
	case "deploy":
		fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
		n := fs.Int("n", 1, "number of units")
		var kvs multiFlag
		fs.Var(&kvs, "config", "k=v option (repeatable)")
		if err := fs.Parse(args); err != nil {
			return err
		}
		config, err := sim.ConfigValues(kvs.pairs())
		if err != nil {
			return err
		}
		if err := sim.Deploy(ctx, *n, config); err != nil {
			return err
		}
	case "relate":
		if len(args) < 1 {
			return errors.New("usage: relate source|target [--plain]")
		}
		p, err := c.provider(args[0], slices.Contains(args[1:], "--plain"))
		if err != nil {
			return err
		}
		if _, err := sim.Relate(ctx, args[0], p); err != nil {
			return err
		}
	case "remove-relation":
		if len(args) != 1 {
			return errors.New("usage: remove-relation source|target")
		}
		if err := sim.RemoveRelation(ctx, args[0]); err != nil {
			return err
		}
	case "config":
		if len(args) == 0 {
			m, err := sim.Model(ctx)
			if err != nil {
				return err
			}
			return printYAML(c.out, m.Config)
		}
		config, err := sim.ConfigValues(kvPairs(args))
		if err != nil {
			return err
		}
		if err := sim.SetConfig(ctx, config); err != nil {
			return err
		}
	case "add-secret":
		content, err := secretContent(args)
		if err != nil {
			return err
		}
		uri, err := sim.AddSecret(ctx, content)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.out, uri)
		return nil
	case "run":
		if len(args) < 2 {
			return errors.New("usage: run UNIT ACTION [k=v...]")
		}
		params := map[string]any{}
		for k, v := range kvPairs(args[2:]) {
			var val any
			if err := yaml.Unmarshal([]byte(v), &val); err != nil || val == nil {
				val = v
			}
			params[k] = val
		}
		res, err := sim.Run(ctx, args[0], args[1], params)
		for _, l := range res.Logs {
			fmt.Fprintln(c.out, l)
		}
		if len(res.Results) > 0 {
			_ = printYAML(c.out, res.Results)
		}
		if res.Failed {
			return fmt.Errorf("action %s failed: %s", args[1], res.Message)
		}
		return err
	case "status":
	case "add-unit":
		unit, err := sim.AddUnit(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "added %s\n", unit)
	case "remove-unit":
		if len(args) != 1 {
			return errors.New("usage: remove-unit UNIT")
		}
		if err := sim.RemoveUnit(ctx, args[0]); err != nil {
			return err
		}
	case "update-status":
		if err := sim.UpdateStatus(ctx); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown verb %q\n%s", verb, cliUsage)
	}
	st, err := sim.Status(ctx)
	if err != nil {
		return err
	}
	fmt.Fprint(c.out, st.String())
	return nil
}

// sim opens the simulator; only deploy may start from an empty state dir.
func (c *cli) sim(fresh bool) (*jujusim.Sim, error) {
	jujuDir := filepath.Join(c.dir, "juju")
	if !fresh && !exists(filepath.Join(jujuDir, "model.json")) {
		return nil, errors.New("nothing deployed: run `sandbox deploy` first")
	}
	opts := jujusim.Options{Dir: jujuDir}
	if fresh {
		if dist, err := localkafka.FindKafkaDist(); err == nil {
			opts.KafkaHome = dist.Home
		}
	}
	return jujusim.Open(opts)
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
		return fmt.Errorf("clusters already up (see %s); run `sandbox down` first", c.recordsPath())
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

// multiFlag collects a repeatable k=v flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
func (m multiFlag) pairs() map[string]string {
	return kvPairs(m)
}

// kvPairs splits "k=v" words; a word without "=" maps to "".
func kvPairs(words []string) map[string]string {
	out := map[string]string{}
	for _, w := range words {
		k, v, _ := strings.Cut(w, "=")
		out[k] = v
	}
	return out
}

// secretContent reads `juju add-secret` key=value arguments as Juju's
// CreateSecretData does: "key#file=path" takes the file's content and
// "key#base64=v" a value already base64-encoded; keys are checked after the
// suffix is gone.
func secretContent(words []string) (map[string]string, error) {
	out := map[string]string{}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("key value %q not valid", w)
		}
		switch {
		case strings.HasSuffix(k, "#file"):
			k = strings.TrimSuffix(k, "#file")
			b, err := os.ReadFile(v)
			if err != nil {
				return nil, fmt.Errorf("reading content for secret key %q: %w", k, err)
			}
			v = string(b)
		case strings.HasSuffix(k, "#base64"):
			k = strings.TrimSuffix(k, "#base64")
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return nil, fmt.Errorf("cannot decode secret key %q: %w", k, err)
			}
			v = string(b)
		}
		out[k] = v
	}
	return out, nil
}

// printYAML prints a map as `juju run` and `juju config` do, keys sorted.
func printYAML[V any](w io.Writer, m map[string]V) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b, err := yaml.Marshal(m[k])
		if err != nil {
			return fmt.Errorf("cannot render %s: %w", k, err)
		}
		fmt.Fprintf(w, "%s: %s\n", k, strings.TrimSpace(string(b)))
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
