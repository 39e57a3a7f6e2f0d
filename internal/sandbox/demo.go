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
	"text/tabwriter"
	"time"
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

// demoGroups are consumer groups with committed positions on the source, each part-way
// through its topic, as stopped consumers would have left them.
var demoGroups = []struct {
	group, topic string
	fraction     float64
}{
	{"billing", "orders", 0.5},
	{"ledger", "payments", 0.9},
	{"tracking", "shipments", 1.0},
}

// demoConfig is what the demo sets at deploy: single-broker clusters need replication factor 1.
var demoConfig = map[string]any{
	"replication-factor":          1,
	"internal-replication-factor": 1,
	"heap-size":                   "512M",
	"refresh-topics-interval":     10,
	"refresh-groups-interval":     10,
}

// Demo runs the whole user flow of a migration against two local Kafka clusters with the
// real charm binary, narrating each step, then tears everything down.
func Demo(ctx context.Context, out io.Writer, dir string) (err error) {
	d := &demo{out: out, start: time.Now()}
	dist, err := FindKafkaDist()
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

	d.step("Starting two Kafka %s clusters (KRaft, SASL_PLAINTEXT SCRAM-SHA-512): kafka-old, the source, and kafka-k8s, the target", dist.Version)
	if d.src, err = StartCluster(ctx, dist, ClusterOptions{Name: "old", Dir: filepath.Join(dir, "kafka-old")}); err != nil {
		return err
	}
	if d.dst, err = StartCluster(ctx, dist, ClusterOptions{Name: "new", Dir: filepath.Join(dir, "kafka-k8s")}); err != nil {
		return err
	}
	d.say("kafka-old at %s, kafka-k8s at %s", d.src.Bootstrap, d.dst.Bootstrap)
	if d.srcT, err = NewTraffic(d.src); err != nil {
		return err
	}
	if d.dstT, err = NewTraffic(d.dst); err != nil {
		return err
	}
	if err := d.fillSource(); err != nil {
		return err
	}

	d.step("Production keeps running: a producer writes %d records per topic every %s", demoBatch, demoProduceEvery)
	prodCtx, stopProducer := context.WithCancel(ctx)
	produced := make(chan produceResult, 1)
	go func() {
		n, err := d.srcT.ProduceUntil(prodCtx, demoTopics, demoPartitions, demoRecords, demoBatch, demoProduceEvery)
		produced <- produceResult{n, err}
	}()
	defer stopProducer()

	if d.sim, err = OpenSim(SimOptions{Dir: filepath.Join(dir, "juju"), KafkaHome: dist.Home}); err != nil {
		return err
	}
	d.cmd("juju deploy mirrormaker-k8s -n 2" + configFlags(demoConfig))
	if err := d.sim.Deploy(ctx, 2, demoConfig); err != nil {
		return err
	}
	if err := d.status(ctx); err != nil {
		return err
	}
	d.cmd("juju relate mirrormaker-k8s:source kafka-old")
	if _, err := d.sim.Relate(ctx, "source", NewKafkaProvider("kafka-old", d.src.Bootstrap, d.src.CreateUser, SecretFields)); err != nil {
		return err
	}
	d.cmd("juju relate mirrormaker-k8s:target kafka-k8s")
	if _, err := d.sim.Relate(ctx, "target", NewKafkaProvider("kafka-k8s", d.dst.Bootstrap, d.dst.CreateUser, SecretFields)); err != nil {
		return err
	}
	if err := d.status(ctx); err != nil {
		return err
	}
	d.cmd("juju run mirrormaker-k8s/leader start-migration")
	res, err := d.sim.Run(ctx, "leader", "start-migration", nil)
	if err != nil {
		return err
	}
	if res.Failed {
		return fmt.Errorf("start-migration failed: %s", res.Message)
	}
	d.results(res.Results)
	mirrorStart := time.Now()

	d.step("Catching up while production continues: the leader's status after each update-status (every 5s), and the records counted on both clusters")
	d.sim.StartUpdateStatus(5 * time.Second)
	if err := d.watch(ctx, 30*time.Second, func(src, dst int64) bool { return dst*10 >= src*9 }); err != nil {
		return err
	}
	if err := d.status(ctx); err != nil {
		return err
	}

	d.step("Stopping the producer, as before a cutover; waiting for the last records")
	stopProducer()
	pr := <-produced
	if pr.err != nil {
		return pr.err
	}
	total := int64(len(demoTopics)*demoRecords + len(demoTopics)*pr.n)
	d.say("the source holds %d records in total", total)
	if err := d.watch(ctx, 0, func(src, dst int64) bool { return dst >= src }); err != nil {
		return err
	}
	d.say("every record is on the target, %s after start-migration", time.Since(mirrorStart).Round(time.Second))
	if err := d.counts(); err != nil {
		return err
	}
	if err := d.groups(ctx); err != nil {
		return err
	}
	d.step("Waiting for the charm to report it: MM2 commits its progress every offset-flush-interval (5s)")
	err = pollUntil(ctx, time.Minute, time.Second, func() (bool, error) {
		if err := d.sim.UpdateStatus(ctx); err != nil {
			return false, err
		}
		st, err := d.sim.Status(ctx)
		return err == nil && strings.HasPrefix(st.Status.Message, "in sync"), err
	}, "the charm to report in sync")
	if err != nil {
		return err
	}
	d.cmd("juju status")
	if err := d.status(ctx); err != nil {
		return err
	}
	d.step("Done: %d records in %d topics mirrored; whole demo %s", total, len(demoTopics), time.Since(d.start).Round(time.Second))
	return nil
}

type produceResult struct {
	n   int
	err error
}

type demo struct {
	out        io.Writer
	start      time.Time
	src, dst   *Cluster
	srcT, dstT *Traffic
	sim        *Sim
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
		if err := d.srcT.Produce(t, demoPartitions, 0, demoRecords); err != nil {
			return err
		}
	}
	for _, g := range demoGroups {
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
	return nil
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

func (d *demo) counts() error {
	d.step("Per-topic record counts on both sides")
	w := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "\ttopic\tsource\ttarget\t")
	for _, t := range demoTopics {
		src, err := d.srcT.Count(t)
		if err != nil {
			return err
		}
		dst, err := d.dstT.Count(t)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\t%s\t%d\t%d\t\n", t, src, dst)
	}
	return w.Flush()
}

// groups shows each group's committed offsets on both sides once MM2 has synced them.
func (d *demo) groups(ctx context.Context) error {
	d.step("Consumer-group offsets, source and target (MirrorMaker 2's translation; waiting for its group sync)")
	for _, g := range demoGroups {
		var src, dst map[int32]int64
		err := pollUntil(ctx, 90*time.Second, time.Second, func() (bool, error) {
			var err error
			if src, err = d.srcT.GroupOffsets(g.group, g.topic, demoPartitions); err != nil {
				return false, err
			}
			if dst, err = d.dstT.GroupOffsets(g.group, g.topic, demoPartitions); err != nil {
				return false, nil
			}
			for _, off := range dst {
				if off < 0 {
					return false, nil
				}
			}
			return len(dst) == demoPartitions, nil
		}, "group "+g.group+" to appear on the target")
		if err != nil {
			return err
		}
		var srcSum, dstSum int64
		for p := range int32(demoPartitions) {
			srcSum += src[p]
			dstSum += dst[p]
		}
		d.say("%-9s on %-9s source committed %6d, target committed %6d (%d records a moved consumer would read again)",
			g.group, g.topic, srcSum, dstSum, srcSum-dstSum)
	}
	return nil
}

func (d *demo) teardown() error {
	d.step("Tearing down the units and both clusters")
	var errs []error
	if d.sim != nil {
		d.sim.StopUpdateStatus()
		errs = append(errs, d.sim.Close())
	}
	for _, t := range []*Traffic{d.srcT, d.dstT} {
		if t != nil {
			t.Close()
		}
	}
	for _, c := range []*Cluster{d.src, d.dst} {
		if c != nil {
			errs = append(errs, c.Stop())
		}
	}
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
