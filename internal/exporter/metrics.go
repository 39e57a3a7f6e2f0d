package exporter

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"mirrormaker-k8s/internal/migration"
)

// snapshot is everything one /metrics page shows: the charm's flags and, on the active unit,
// the last measurement.
type snapshot struct {
	cfg Config
	// measured is false until the active exporter has measured once (and always elsewhere).
	measured bool
	view     migration.SyncView
	// up says, of each cluster the exporter tried to reach, whether it did.
	up       map[string]bool
	took     time.Duration
	requests map[string]int // Kafka requests the measurement sent, by cluster
}

// family is one metric: its help, and its samples in the order written.
type family struct {
	name, help string
	samples    []sample
}

type sample struct {
	labels []string // name, value, name, value...
	value  float64
}

func (f *family) add(value float64, labels ...string) {
	f.samples = append(f.samples, sample{labels: labels, value: value})
}

// families turns s into metric families; pure, so a golden file pins every name and label.
func families(s snapshot) []*family {
	active := &family{name: "mirrormaker_exporter_active", help: "1 on the unit whose exporter measures the migration (the leader, while mirroring), 0 on the others."}
	active.add(b01(s.cfg.Active))
	mirroring := &family{name: "mirrormaker_mirroring", help: "1 while the charm wants MirrorMaker 2 to run (start-migration was run and no cutover completed)."}
	mirroring.add(b01(s.cfg.Mirroring))
	// The phase comes from the charm, the same on every unit, and outlives the measuring (which
	// stops once the migration is complete).
	phase := &family{name: "mirrormaker_cutover_phase", help: "The last cutover phase completed: 0 none, 1 consumers, 2 producers (migration complete)."}
	phase.add(float64(s.cfg.CutoverPhase))
	out := []*family{active, mirroring, phase}
	if !s.cfg.Active {
		return out
	}
	up := &family{name: "mirrormaker_cluster_up", help: "1 when the exporter reached the cluster in its last round (absent for a cluster it did not try)."}
	for _, c := range []string{"source", "target"} {
		if reached, tried := s.up[c]; tried {
			up.add(b01(reached), "cluster", c)
		}
	}
	out = append(out, up)
	if !s.measured {
		return out
	}
	return append(out, viewFamilies(s)...)
}

func viewFamilies(s snapshot) []*family {
	v := s.view
	behind := &family{name: "mirrormaker_records_behind", help: "Records MirrorMaker 2 still has to copy from the source partition (an upper bound on compacted topics; absent when unknown)."}
	start := &family{name: "mirrormaker_source_log_start_offset", help: "The source partition's log start offset."}
	end := &family{name: "mirrormaker_source_end_offset", help: "The source partition's end offset (high-water mark)."}
	tend := &family{name: "mirrormaker_target_end_offset", help: "The end offset of the partition's copy on the target (absent when unknown)."}
	repl := &family{name: "mirrormaker_replicated_offset", help: "The last source offset MirrorMaker 2 has flushed as copied, -1 before the first."}
	var caughtUp, lagging, unknown int
	for _, p := range v.Partitions {
		l := []string{"topic", p.Topic, "partition", strconv.Itoa(int(p.Partition))}
		if p.SourceStart >= 0 {
			start.add(float64(p.SourceStart), l...)
		}
		if p.SourceEnd >= 0 {
			end.add(float64(p.SourceEnd), l...)
		}
		if p.TargetEnd >= 0 {
			tend.add(float64(p.TargetEnd), l...)
		}
		repl.add(float64(p.Committed), l...)
		switch {
		case p.Lag < 0:
			unknown++
		case p.Lag == 0:
			caughtUp++
			behind.add(0, l...)
		default:
			lagging++
			behind.add(float64(p.Lag), l...)
		}
	}
	parts := &family{name: "mirrormaker_partitions", help: "Mirrored source partitions by state: caught_up, behind, or unknown (not measured)."}
	parts.add(float64(caughtUp), "state", "caught_up")
	parts.add(float64(lagging), "state", "behind")
	parts.add(float64(unknown), "state", "unknown")

	gpSynced := &family{name: "mirrormaker_group_partition_synced", help: "1 when the target group holds MirrorMaker 2's translation of the group's very source commit on the partition."}
	ckLag := &family{name: "mirrormaker_checkpoint_lag", help: "Offsets between the group's source commit and the commit MirrorMaker 2's latest checkpoint translated (absent without a checkpoint)."}
	gSynced := &family{name: "mirrormaker_group_synced", help: "1 when MirrorMaker 2 has synced every partition of the group (counted groups only)."}
	for _, g := range v.Groups {
		if !g.Counted {
			continue
		}
		gSynced.add(b01(g.Synced), "group", g.Group)
		for _, gp := range g.Partitions {
			l := []string{"group", g.Group, "topic", gp.Topic, "partition", strconv.Itoa(int(gp.Partition))}
			gpSynced.add(b01(gp.Synced), l...)
			if gp.Checkpoint != nil && gp.SourceCommitted >= 0 {
				ckLag.add(float64(gp.SourceCommitted-gp.Checkpoint.UpstreamOffset), l...)
			}
		}
	}
	groups := &family{name: "mirrormaker_groups", help: "Consumer groups with commits on mirrored partitions (counted), those MirrorMaker 2 synced, and those only the cutover can move."}
	groups.add(float64(v.GroupsCounted), "state", "counted")
	groups.add(float64(v.GroupsSynced), "state", "synced")
	groups.add(float64(v.GroupsCutoverOnly), "state", "cutover_only")

	errs := &family{name: "mirrormaker_measure_errors", help: "Items (brokers, partitions, groups) the last measurement could not measure."}
	errs.add(float64(len(v.Errors)))
	took := &family{name: "mirrormaker_measure_duration_seconds", help: "How long the last measurement took."}
	took.add(s.took.Seconds())
	reqs := &family{name: "mirrormaker_measure_requests", help: "Kafka requests the last measurement sent to the cluster."}
	for _, c := range []string{"source", "target"} {
		reqs.add(float64(s.requests[c]), "cluster", c)
	}
	at := &family{name: "mirrormaker_last_measure_timestamp_seconds", help: "When the last measurement started (Unix time)."}
	at.add(float64(v.Taken.UnixNano()) / 1e9)
	return []*family{behind, start, end, tend, repl, parts, gSynced, gpSynced, ckLag, groups, errs, took, reqs, at}
}

func b01(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

// write renders families in Prometheus' text exposition format (version 0.0.4). Every metric
// is a gauge; a family without samples is left out. A migration of 2,000 partitions and 200
// groups is a page of 50,000 samples every interval: it is written into one buffer, without a
// string per sample.
func write(w io.Writer, fams []*family) error {
	var b []byte
	for _, f := range fams {
		if len(f.samples) == 0 {
			continue
		}
		b = fmt.Appendf(b, "# HELP %s %s\n# TYPE %s gauge\n", f.name, escapeHelp(f.help), f.name)
		for _, s := range f.samples {
			b = append(b, f.name...)
			if len(s.labels) > 0 {
				b = append(b, '{')
				for i := 0; i+1 < len(s.labels); i += 2 {
					if i > 0 {
						b = append(b, ',')
					}
					b = append(b, s.labels[i]...)
					b = append(b, `="`...)
					b = append(b, escapeLabel(s.labels[i+1])...)
					b = append(b, '"')
				}
				b = append(b, '}')
			}
			b = append(b, ' ')
			b = strconv.AppendFloat(b, s.value, 'g', -1, 64)
			b = append(b, '\n')
		}
	}
	_, err := w.Write(b)
	return err
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

// escapeLabel escapes a label value: topic and group names are user data and may hold any of
// the three characters the format escapes.
func escapeLabel(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return labelEscaper.Replace(s)
}

func escapeHelp(s string) string { return helpEscaper.Replace(s) }
