package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"mirrormaker-k8s/internal/sandbox/internal/fakeloki"
	"mirrormaker-k8s/internal/sandbox/internal/promserver"
	"mirrormaker-k8s/internal/sandbox/jujusim"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// demoTopics are the source's topics in the demo: 3 topics x 6 partitions.
var demoTopics = []string{"orders", "payments", "shipments"}

const (
	demoPartitions    = 6
	demoRecords       = 20000 // per topic before mirroring starts
	demoBatch         = 500   // per topic, every demoProduceEvery, while "production" runs
	demoProduceEvery  = time.Second
	demoCatchUpBudget = 5 * time.Minute
)

// demoGroups are the applications' consumer groups on the source: two with committed positions
// part-way through their topics, as consumers stopped earlier left them, and one consumer that
// runs, reading live records, until the cutover stops it.
var demoGroups = []struct {
	group, topic string
	fraction     float64 // of the topic committed, for a stopped consumer
	running      bool
}{
	{"billing", "orders", 0.5, false},
	{"ledger", "payments", 0.9, false},
	{"tracking", "shipments", 0, true},
}

// demoConfig is what the demo sets at deploy: single-broker clusters need replication factor 1.
var demoConfig = map[string]any{
	"replication-factor":          1,
	"internal-replication-factor": 1,
	"heap-size":                   "512M",
	"refresh-topics-interval":     10,
	"refresh-groups-interval":     10,
	"metrics-interval":            5, // the exporter measures as often as the demo's update-status
}

// runDemo runs the whole user flow of a migration against two local Kafka clusters with the
// real charm binary, narrating each step, then tears everything down.
func runDemo(ctx context.Context, out io.Writer, dir string) (err error) {
	d := &demo{out: out, start: time.Now()}
	dist, err := localkafka.FindKafkaDist()
	if err != nil {
		return err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("cannot clear %s: %w", dir, err)
	}
	defer func() { err = errors.Join(err, d.teardown()) }()

	if err := d.startClusters(ctx, dist, dir); err != nil {
		return err
	}
	if err := d.fillSource(); err != nil {
		return err
	}
	prod := d.startProduction(ctx)
	defer prod.cancel()
	if err := d.deployAndRelate(ctx, dist, dir); err != nil {
		return err
	}
	if err := d.startMigration(ctx); err != nil {
		return err
	}
	mirrorStart := time.Now()
	if err := d.catchUp(ctx); err != nil {
		return err
	}
	if err := d.cutoverConsumers(ctx); err != nil {
		return err
	}
	total, err := d.stopProduction(prod)
	if err != nil {
		return err
	}
	if err := d.showCompaction(ctx); err != nil {
		return err
	}
	if err := d.cutoverProducers(ctx); err != nil {
		return err
	}
	d.cmd("juju status")
	if err := d.status(ctx); err != nil {
		return err
	}
	d.say("prometheus: %s = %s", demoRecordsBehind, d.settledRecordsBehind(ctx))
	d.showLogs()
	d.step("Done: %d records in %d topics migrated, consumers and producers moved; start-migration to cutover complete %s, whole demo %s",
		total, len(demoTopics)+1, time.Since(mirrorStart).Round(time.Second), time.Since(d.start).Round(time.Second))
	return nil
}

// startClusters starts the source and the target, and a kit on each.
func (d *demo) startClusters(ctx context.Context, dist localkafka.KafkaDist, dir string) error {
	d.step("Starting two Kafka %s clusters (KRaft, SASL_PLAINTEXT SCRAM-SHA-512): kafka-old, the source, and kafka-k8s, the target", dist.Version)
	var err error
	if d.src, err = localkafka.StartCluster(ctx, dist, localkafka.ClusterOptions{Name: "old", Dir: filepath.Join(dir, "kafka-old")}); err != nil {
		return err
	}
	if d.dst, err = localkafka.StartCluster(ctx, dist, localkafka.ClusterOptions{Name: "new", Dir: filepath.Join(dir, "kafka-k8s")}); err != nil {
		return err
	}
	d.say("kafka-old at %s, kafka-k8s at %s", d.src.Bootstrap, d.dst.Bootstrap)
	if d.srcT, err = localkafka.NewKit(d.src); err != nil {
		return err
	}
	d.dstT, err = localkafka.NewKit(d.dst)
	return err
}

// production is the producer that keeps writing to the source until the
// producers' cutover: cancel stops it, done then says how much it wrote.
type production struct {
	cancel context.CancelFunc
	done   chan produceResult
}

// startProduction starts the source's producer, as the applications keep
// writing while MirrorMaker 2 copies.
func (d *demo) startProduction(ctx context.Context) production {
	d.step("Production keeps running: a producer writes %d records per topic every %s, and %d new versions to %s",
		demoBatch, demoProduceEvery, demoChangelogBatch, demoChangelog)
	prodCtx, cancel := context.WithCancel(ctx)
	p := production{cancel: cancel, done: make(chan produceResult, 1)}
	go func() {
		changelog := make(chan error, 1)
		go func() { changelog <- d.produceChangelog(prodCtx) }()
		n, err := d.srcT.ProduceUntil(prodCtx, demoTopics, demoBatch, demoProduceEvery)
		p.done <- produceResult{n, errors.Join(err, <-changelog)}
	}()
	return p
}

// stopProduction stops the producer and returns how many records the source
// holds in all.
func (d *demo) stopProduction(p production) (int64, error) {
	d.step("Cutover, phase 2: producers. The producer stops; the charm waits for a quiet source and lag 0, then proves the copy")
	p.cancel()
	pr := <-p.done
	if pr.err != nil {
		return 0, pr.err
	}
	total := int64(len(demoTopics)*demoRecords + len(demoTopics)*pr.n + d.changelog.written)
	d.say("producer stopped: %d records written in all, %d of them versions of %s's %d keys",
		total, d.changelog.written, demoChangelog, demoChangelogKeys)
	return total, nil
}

// deployAndRelate deploys two units of the charm and relates them to both
// clusters, as the user does with juju.
func (d *demo) deployAndRelate(ctx context.Context, dist localkafka.KafkaDist, dir string) error {
	var err error
	if d.sim, err = jujusim.Open(jujusim.Options{Dir: filepath.Join(dir, "juju"), KafkaHome: dist.Home}); err != nil {
		return err
	}
	d.cmd("juju deploy mirrormaker-k8s -n 2" + configFlags(demoConfig))
	if err := d.sim.Deploy(ctx, 2, demoConfig); err != nil {
		return err
	}
	if err := d.status(ctx); err != nil {
		return err
	}
	if err := d.relateCOS(ctx, dir); err != nil {
		return err
	}
	d.cmd("juju relate mirrormaker-k8s:source kafka-old")
	if _, err := d.sim.Relate(ctx, "source", jujusim.NewKafkaProvider("kafka-old", d.src.Bootstrap, d.src.CreateUser, jujusim.SecretFields)); err != nil {
		return err
	}
	d.cmd("juju relate mirrormaker-k8s:target kafka-k8s")
	if _, err := d.sim.Relate(ctx, "target", jujusim.NewKafkaProvider("kafka-k8s", d.dst.Bootstrap, d.dst.CreateUser, jujusim.SecretFields)); err != nil {
		return err
	}
	return d.status(ctx)
}

// startMigration runs the action on the leader and shows its results.
func (d *demo) startMigration(ctx context.Context) error {
	d.cmd("juju run mirrormaker-k8s/leader start-migration")
	res, err := d.sim.Run(ctx, "leader", "start-migration", nil)
	if err != nil {
		return err
	}
	if res.Failed {
		return fmt.Errorf("cannot start the migration: %s", res.Message)
	}
	d.results(res.Results)
	return nil
}

// catchUp runs update-status on a timer, as Juju does, and watches the
// target close in on the source while production continues.
func (d *demo) catchUp(ctx context.Context) error {
	d.step("Catching up while production continues: the leader's status after each update-status (every 5s), and the records counted on both clusters")
	d.sim.StartUpdateStatus(5 * time.Second)
	if err := d.watch(ctx, 30*time.Second, func(src, dst int64) bool { return dst*10 >= src*9 }); err != nil {
		return err
	}
	return d.status(ctx)
}

type produceResult struct {
	n   int
	err error
}

type demo struct {
	out        io.Writer
	start      time.Time
	src, dst   *localkafka.Cluster
	srcT, dstT *localkafka.Kit
	sim        *jujusim.Sim
	consumers  map[string]*localkafka.GroupConsumer // running on the source, by group
	changelog  *changelogWriter
	prom       *promserver.Server // COS's Prometheus, configured from the charm's relation data
	loki       *fakeloki.Server
}

func (d *demo) step(format string, args ...any) {
	fmt.Fprintf(d.out, "\n==> "+format+"\n", args...)
}

func (d *demo) say(format string, args ...any) { fmt.Fprintf(d.out, "    "+format+"\n", args...) }

func (d *demo) cmd(line string) { fmt.Fprintf(d.out, "\n$ %s\n", line) }

func (d *demo) status(ctx context.Context) error {
	st, err := d.sim.Status(ctx)
	if err != nil {
		return err
	}
	fmt.Fprint(d.out, indent(st.String()))
	return nil
}

func (d *demo) results(r map[string]string) {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d.say("%s: %s", k, r[k])
	}
}

func (d *demo) fillSource() error {
	d.step("Filling the source: %d topics x %d partitions, %d keyed records with headers each; %d consumer groups part-way through",
		len(demoTopics), demoPartitions, demoRecords, len(demoGroups))
	for _, t := range demoTopics {
		if err := d.srcT.CreateTopic(t, demoPartitions, nil); err != nil {
			return err
		}
		if err := d.srcT.Produce(t, demoRecords); err != nil {
			return err
		}
	}
	for _, g := range demoGroups {
		if g.running {
			c, err := d.srcT.StartConsumer(context.Background(), g.group, g.topic)
			if err != nil {
				return err
			}
			if d.consumers == nil {
				d.consumers = map[string]*localkafka.GroupConsumer{}
			}
			d.consumers[g.group] = c
			d.say("group %-9s a consumer running on %s, reading every record as it arrives", g.group, g.topic)
			continue
		}
		ends, err := d.srcT.EndOffsets(g.topic)
		if err != nil {
			return err
		}
		offsets := map[int32]int64{}
		for p, end := range ends {
			offsets[p] = int64(float64(end) * g.fraction)
		}
		if err := d.srcT.Commit(g.group, g.topic, offsets); err != nil {
			return err
		}
		d.say("group %-9s committed %3.0f%% of %s", g.group, g.fraction*100, g.topic)
	}
	return d.fillChangelog()
}

// watch prints source and target record counts every few seconds until done holds for every
// topic, within the catch-up budget; minimum keeps watching at least that long.
func (d *demo) watch(ctx context.Context, minimum time.Duration, done func(src, dst int64) bool) error {
	began := time.Now()
	deadline := began.Add(demoCatchUpBudget)
	for {
		var line []string
		all := true
		var behind int64
		for _, t := range demoTopics {
			src, err := d.srcT.Count(t)
			if err != nil {
				return err
			}
			dst, err := d.dstT.Count(t)
			if err != nil {
				dst = 0 // MM2 has not created the topic on the target yet
			}
			line = append(line, fmt.Sprintf("%s %d/%d", t, dst, src))
			all = all && done(src, dst)
			behind += max(src-dst, 0)
		}
		app := ""
		if st, err := d.sim.Status(ctx); err == nil {
			app = st.Status.Message
		}
		d.say("[%3.0fs] status: %s", time.Since(began).Seconds(), app)
		d.say("       prometheus: %s = %s", demoRecordsBehind, d.promRecordsBehind(ctx))
		d.say("       counted: %s (%d behind)", strings.Join(line, ", "), behind)
		if all && time.Since(began) >= minimum {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cannot catch up within %s: %d records still behind", demoCatchUpBudget, behind)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(3 * time.Second):
		}
	}
}

func (d *demo) teardown() error {
	d.step("Tearing down the units and both clusters")
	var errs []error
	for _, c := range d.consumers {
		errs = append(errs, c.Stop())
	}
	if d.sim != nil {
		d.sim.StopUpdateStatus()
		errs = append(errs, d.sim.Close())
	}
	for _, k := range []*localkafka.Kit{d.srcT, d.dstT} {
		if k != nil {
			_ = k.Close() // the connections go; nothing to report
		}
	}
	for _, c := range []*localkafka.Cluster{d.src, d.dst} {
		if c != nil {
			errs = append(errs, c.Stop())
		}
	}
	errs = append(errs, d.stopCOS())
	return errors.Join(errs...)
}

// configFlags spells options as `juju deploy --config` flags, in a stable order.
func configFlags(cfg map[string]any) string {
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " --config %s=%v", k, cfg[k])
	}
	return b.String()
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "    " + strings.Join(lines, "\n    ") + "\n"
}
