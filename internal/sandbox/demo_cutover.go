package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// The demo's two cutover phases, as the user runs them and what they show.

// cutoverConsumers stops the running consumer, runs the consumers phase, then starts every
// group's consumer on the target and shows where each resumes.
func (d *demo) cutoverConsumers(ctx context.Context) error {
	d.step("Cutover, phase 1: consumers. The applications stop on the source; the producer keeps writing")
	for _, g := range demoGroups {
		c := d.consumers[g.group]
		if c == nil {
			d.say("%-9s stopped earlier: its committed offsets on %s are final", g.group, g.topic)
			continue
		}
		if err := c.Stop(); err != nil {
			return err
		}
		d.say("%-9s was reading %s live; stopped after %d records", g.group, g.topic, countRead(c.Read()[g.topic]))
	}
	d.cmd("juju run mirrormaker-k8s/leader cutover phase=consumers timeout=2m")
	begin := time.Now()
	res, err := d.sim.Run(ctx, "leader", "cutover", map[string]any{"phase": "consumers", "timeout": "2m"})
	if err != nil {
		return err
	}
	d.logs(res.Logs)
	if res.Failed {
		return fmt.Errorf("cannot cut consumers over: %s", res.Message)
	}
	d.say("%s (%s)", res.Results["status"], time.Since(begin).Round(100*time.Millisecond))
	groups := parseGroupOffsets(res.Results)

	d.step("Per group, summed over its partitions: MirrorMaker 2's translation and the exact offset the action wrote")
	w := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "\tgroup\ttopic\tsource committed\tMM2's translation\texact written\treplays avoided\t")
	for _, g := range groups {
		var committed, translation, exact, avoided int64
		translated := 0
		for _, p := range g.partitions {
			committed += p.committed
			exact += p.exact
			if p.translation >= 0 {
				translation += p.translation
				avoided += max(p.replaysAvoided, 0)
				translated++
			}
		}
		mm2, replays := fmt.Sprint(translation), fmt.Sprint(avoided)
		if translated < len(g.partitions) {
			mm2 = fmt.Sprintf("%d of %d partitions", translated, len(g.partitions))
		}
		fmt.Fprintf(w, "\t%s\t%s\t%d\t%s\t%d\t%s\t\n", g.name, g.topic, committed, mm2, exact, replays)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	d.say("records a consumer started at MirrorMaker 2's translation would have read twice: %s", res.Results["summary.replays-avoided"])

	d.step("Consumers start on the target and resume where they stopped on the source")
	for _, g := range groups {
		if err := d.resume(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

// resume runs g's consumer on the target until it has read a record on every partition, and
// checks each first record against the source record at the committed offset.
func (d *demo) resume(ctx context.Context, g demoGroupOffsets) error {
	c, err := d.dstT.StartConsumer(ctx, g.name, g.topic)
	if err != nil {
		return err
	}
	err = poll.Until(ctx, time.Minute, 200*time.Millisecond, func() (bool, error) {
		read := c.Read()[g.topic]
		for _, p := range g.partitions {
			if len(read[p.partition]) == 0 {
				return false, nil
			}
		}
		return true, nil
	}, g.name+" to read on the target")
	if err := errors.Join(err, c.Stop()); err != nil {
		return err
	}
	read := c.Read()[g.topic]
	exactly := 0
	var example string
	for _, p := range g.partitions {
		first := read[p.partition][0]
		want, err := d.srcT.ReadCommitted(ctx, g.topic, p.partition, p.committed, func(localkafka.Record) bool { return true })
		if err != nil {
			return err
		}
		if first.Key != want[0].Key || first.Value != want[0].Value {
			return fmt.Errorf("cannot resume %s on %s/%d where it stopped: it resumed at %q, the record after its source committed offset %d is %q",
				g.name, g.topic, p.partition, first.Key, p.committed, want[0].Key)
		}
		exactly++
		if example == "" {
			example = fmt.Sprintf("%s/%d: %s, offset %d on the source, %d on the target", g.topic, p.partition, first.Key, want[0].Offset, first.Offset)
		}
	}
	d.say("%-9s %d/%d partitions: first record read = the record after the source committed offset (e.g. %s)",
		g.name, exactly, len(g.partitions), example)
	return nil
}

// cutoverProducers runs the producers phase and shows its proof.
func (d *demo) cutoverProducers(ctx context.Context) error {
	d.cmd("juju run mirrormaker-k8s/leader cutover phase=producers quiet-period=5s timeout=3m")
	begin := time.Now()
	res, err := d.sim.Run(ctx, "leader", "cutover", map[string]any{"phase": "producers", "quiet-period": "5s", "timeout": "3m"})
	if err != nil {
		return err
	}
	d.logs(res.Logs)
	if res.Failed {
		return fmt.Errorf("cannot cut producers over: %s", res.Message)
	}
	r := res.Results
	w := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "\ttopic\tpartitions\tsource records\ttarget records\tcompared by content\tduplicates\t how")
	for i := 0; r["topics."+strconv.Itoa(i)+".name"] != ""; i++ {
		k := "topics." + strconv.Itoa(i) + "."
		dups := r[k+"duplicates"]
		if dups == "" {
			dups = "0"
		}
		fmt.Fprintf(w, "\t%s\t%s\t%s\t%s\t%s\t%s\t %s\n", r[k+"name"], r[k+"partitions"], r[k+"source-records"], r[k+"target-records"],
			r[k+"sampled"], dups, r[k+"compared"])
	}
	if err := w.Flush(); err != nil {
		return err
	}
	d.say("%s (%s)", r["status"], time.Since(begin).Round(100*time.Millisecond))
	return nil
}

// logs prints an action's progress lines, as `juju run` shows them.
func (d *demo) logs(lines []string) {
	for _, l := range lines {
		fmt.Fprintf(d.out, "    | %s\n", l)
	}
}

// demoGroupOffsets is one group of the consumers phase's results.
type demoGroupOffsets struct {
	name, topic string
	partitions  []demoPartitionOffset
}

type demoPartitionOffset struct {
	partition                                     int32
	committed, translation, exact, replaysAvoided int64
}

// parseGroupOffsets reads groups.N.* of the cutover's consumers phase (one topic per group in
// the demo).
func parseGroupOffsets(r map[string]string) []demoGroupOffsets {
	num := func(k string) int64 {
		n, _ := strconv.ParseInt(r[k], 10, 64)
		return n
	}
	var out []demoGroupOffsets
	for i := 0; r["groups."+strconv.Itoa(i)+".name"] != ""; i++ {
		k := "groups." + strconv.Itoa(i) + "."
		g := demoGroupOffsets{name: r[k+"name"]}
		for j := 0; r[k+"partitions."+strconv.Itoa(j)+".topic"] != ""; j++ {
			pk := k + "partitions." + strconv.Itoa(j) + "."
			g.topic = r[pk+"topic"]
			g.partitions = append(g.partitions, demoPartitionOffset{partition: int32(num(pk + "partition")),
				committed: num(pk + "source-committed"), translation: num(pk + "mm2-translation"),
				exact: num(pk + "exact"), replaysAvoided: num(pk + "replays-avoided")})
		}
		out = append(out, g)
	}
	return out
}

func countRead(read map[int32][]localkafka.Record) int {
	n := 0
	for _, rs := range read {
		n += len(rs)
	}
	return n
}
