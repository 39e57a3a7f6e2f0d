package sandbox

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"mirrormaker-k8s/internal/sandbox/jujusim"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// dirEnv names the environment variable holding the CLI's state dir.
const dirEnv = "SANDBOX_DIR"

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

// CLI runs one sandbox verb (cmd/sandbox is a thin wrapper). Pods and
// clusters it starts outlive it; the next call finds them through the state
// dir. It returns the process exit code.
func CLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, cliUsage)
		return 0
	}
	dir := os.Getenv(dirEnv)
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
		return runDemo(ctx, c.out, filepath.Join(c.dir, "demo"))
	case "down":
		return c.down()
	}
	sim, err := c.sim(verb == "deploy")
	if err != nil {
		return err
	}
	do, ok := c.simVerbs()[verb]
	if !ok {
		return fmt.Errorf("unknown verb %q\n%s", verb, cliUsage)
	}
	showStatus, err := do(ctx, sim, args)
	if err != nil || !showStatus {
		return err
	}
	st, err := sim.Status(ctx)
	if err != nil {
		return err
	}
	fmt.Fprint(c.out, st.String())
	return nil
}

// simVerb runs one verb on the model; showStatus asks for `juju status`
// after it, as the verbs that change the model print it.
type simVerb func(ctx context.Context, sim *jujusim.Sim, args []string) (showStatus bool, err error)

// simVerbs are the verbs that act on the simulator, by name.
func (c *cli) simVerbs() map[string]simVerb {
	return map[string]simVerb{
		"deploy":          c.deploy,
		"relate":          c.relate,
		"remove-relation": c.removeRelation,
		"config":          c.config,
		"add-secret":      c.addSecret,
		"run":             c.runAction,
		"status":          func(context.Context, *jujusim.Sim, []string) (bool, error) { return true, nil },
		"add-unit":        c.addUnit,
		"remove-unit":     c.removeUnit,
		"update-status": func(ctx context.Context, sim *jujusim.Sim, _ []string) (bool, error) {
			return true, sim.UpdateStatus(ctx)
		},
	}
}

func (c *cli) deploy(ctx context.Context, sim *jujusim.Sim, args []string) (bool, error) {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	n := fs.Int("n", 1, "number of units")
	var kvs multiFlag
	fs.Var(&kvs, "config", "k=v option (repeatable)")
	if err := fs.Parse(args); err != nil {
		return false, err
	}
	config, err := sim.ConfigValues(kvs.pairs())
	if err != nil {
		return false, err
	}
	return true, sim.Deploy(ctx, *n, config)
}

func (c *cli) relate(ctx context.Context, sim *jujusim.Sim, args []string) (bool, error) {
	if len(args) < 1 {
		return false, errors.New("usage: relate source|target [--plain]")
	}
	p, err := c.provider(args[0], slices.Contains(args[1:], "--plain"))
	if err != nil {
		return false, err
	}
	_, err = sim.Relate(ctx, args[0], p)
	return true, err
}

func (c *cli) removeRelation(ctx context.Context, sim *jujusim.Sim, args []string) (bool, error) {
	if len(args) != 1 {
		return false, errors.New("usage: remove-relation source|target")
	}
	return true, sim.RemoveRelation(ctx, args[0])
}

// config prints the model's config without arguments, else sets options.
func (c *cli) config(ctx context.Context, sim *jujusim.Sim, args []string) (bool, error) {
	if len(args) == 0 {
		m, err := sim.Model(ctx)
		if err != nil {
			return false, err
		}
		return false, printYAML(c.out, m.Config)
	}
	config, err := sim.ConfigValues(kvPairs(args))
	if err != nil {
		return false, err
	}
	return true, sim.SetConfig(ctx, config)
}

func (c *cli) addSecret(ctx context.Context, sim *jujusim.Sim, args []string) (bool, error) {
	content, err := secretContent(args)
	if err != nil {
		return false, err
	}
	uri, err := sim.AddSecret(ctx, content)
	if err != nil {
		return false, err
	}
	fmt.Fprintln(c.out, uri)
	return false, nil
}

// runAction runs an action and prints its logs and results as `juju run`;
// parameter values are YAML, so numbers and booleans keep their types.
func (c *cli) runAction(ctx context.Context, sim *jujusim.Sim, args []string) (bool, error) {
	if len(args) < 2 {
		return false, errors.New("usage: run UNIT ACTION [k=v...]")
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
		return false, fmt.Errorf("cannot run action %s: %s", args[1], res.Message)
	}
	return false, err
}

func (c *cli) addUnit(ctx context.Context, sim *jujusim.Sim, _ []string) (bool, error) {
	unit, err := sim.AddUnit(ctx)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(c.out, "added %s\n", unit)
	return true, nil
}

func (c *cli) removeUnit(ctx context.Context, sim *jujusim.Sim, args []string) (bool, error) {
	if len(args) != 1 {
		return false, errors.New("usage: remove-unit UNIT")
	}
	return true, sim.RemoveUnit(ctx, args[0])
}

// sim opens the simulator; only deploy may start from an empty state dir.
func (c *cli) sim(fresh bool) (*jujusim.Sim, error) {
	jujuDir := filepath.Join(c.dir, "juju")
	if !fresh && !exists(filepath.Join(jujuDir, "model.json")) {
		return nil, errors.New("cannot open the model: nothing deployed (run `sandbox deploy` first)")
	}
	opts := jujusim.Options{Dir: jujuDir}
	if fresh {
		if dist, err := localkafka.FindKafkaDist(); err == nil {
			opts.KafkaHome = dist.Home
		}
	}
	return jujusim.Open(opts)
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
