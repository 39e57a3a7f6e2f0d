package sandbox

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"mirrormaker-k8s/internal/sandbox/internal/testenv"
	"mirrormaker-k8s/internal/sandbox/jujusim"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// BenchmarkCopyRate is `make bench`'s table: how fast MM2 copies a topic as
// the charm configures it, next to what the machine can do at all and to
// the stock configuration of Charmed Kafka's migration how-to, on the same
// data and the same two sandbox clusters (one node each, SCRAM over
// loopback). One source topic is filled once; every run copies it into a
// target cluster started fresh for that run, and runs alternate order
// round by round (the second round runs backwards), so neither a warm page
// cache nor a tired disk favours one of them. Medians are reported.
//
// A run's rate is measured on the target with an admin client, never from
// the status: from its first record there until every partition's end
// offset reaches the source's (copying), and from the run's start (start-
// migration's, the JVM's, the pipe's) to that point (whole). Ratios are of
// the copying rates: MM2's start-up (JVM, herder, connectors; about 10 s on
// two cores) is paid once per migration, not per gigabyte, and is shown in
// its own column.
//
// MM_BENCH_RECORDS (default 1,000,000), MM_BENCH_RECORD_BYTES (1024),
// MM_BENCH_PARTITIONS (12), MM_BENCH_ROUNDS (2) and MM_BENCH_RUNS (a
// comma-separated subset of the run names) shape it. Needs root, `make
// charm pebble kafka`; skips without.
func BenchmarkCopyRate(b *testing.B) {
	testenv.RequireRoot(b)
	dist, err := localkafka.FindKafkaDist()
	if err != nil {
		b.Skipf("skipping: %v", err)
	}
	charmFile := jujusim.DefaultCharmFile()
	if _, err := os.Stat(charmFile); err != nil {
		b.Skipf("skipping: no charm built (run make charm): %v", err)
	}
	pebble := testenv.Pebble(b)
	shape := benchShape{
		records:    envInt(b, "MM_BENCH_RECORDS", 1_000_000),
		size:       envInt(b, "MM_BENCH_RECORD_BYTES", 1024),
		partitions: int32(envInt(b, "MM_BENCH_PARTITIONS", 12)),
		topic:      "bench",
	}
	rounds := envInt(b, "MM_BENCH_ROUNDS", 2)
	runs := selectRuns(b, copyRuns, os.Getenv("MM_BENCH_RUNS"))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
	b.Cleanup(cancel)
	w := &benchWorld{b: b, ctx: ctx, dist: dist, charmFile: charmFile, pebble: pebble, shape: shape}
	w.source = w.startCluster("old")
	begin := time.Now()
	w.seed()
	progress("source: %d records of %d bytes with keys in %d partitions of %q, written in %s",
		shape.records, shape.size, shape.partitions, shape.topic, time.Since(begin).Round(time.Millisecond))

	results := map[string][]copyResult{}
	for round := range rounds {
		order := slices.Clone(runs)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, r := range order {
			res := w.runOnce(r)
			results[r.name] = append(results[r.name], res)
			progress("round %d, %s: %s", round+1, r.name, res)
		}
	}
	b.StopTimer()
	table := copyTable(runs, results, shape)
	fmt.Println(table)
	for _, r := range runs {
		b.ReportMetric(median(results[r.name], copyResult.copyingRate), r.metric+"-records/s")
	}
}

// progress prints a line at once: a benchmark's own log shows only at its
// end, and this one runs for minutes.
func progress(format string, args ...any) {
	fmt.Printf("copy rate: "+format+"\n", args...)
}

// benchShape is the data every run copies.
type benchShape struct {
	records, size int
	partitions    int32
	topic         string
}

// copyRun is one way of getting the source topic onto a target.
type copyRun struct {
	name   string // in the table
	metric string // in the benchmark's metrics
	// prepare readies a run into target, untimed; the caller times start
	// and measures the target, then calls stop.
	prepare func(w *benchWorld, target *localkafka.Cluster) (start func() error, stop func(), err error)
	// all is true when the run writes its own records (the raw producer),
	// not a copy of the source's: done when the target holds as many.
	all bool
}

// copyResult is what one run measured on its target.
type copyResult struct {
	records      int
	first, whole time.Duration // since the run's start
}

func (r copyResult) copyingRate() float64 {
	return float64(r.records) / (r.whole - r.first).Seconds()
}

func (r copyResult) wholeRate() float64 { return float64(r.records) / r.whole.Seconds() }

func (r copyResult) String() string {
	return fmt.Sprintf("first record after %s, all after %s: %.0f records/s copying, %.0f records/s whole",
		r.first.Round(time.Millisecond), r.whole.Round(time.Millisecond), r.copyingRate(), r.wholeRate())
}

func selectRuns(b *testing.B, all []copyRun, names string) []copyRun {
	if names == "" {
		return all
	}
	var out []copyRun
	for _, n := range strings.Split(names, ",") {
		i := slices.IndexFunc(all, func(r copyRun) bool { return r.metric == strings.TrimSpace(n) })
		if i < 0 {
			b.Fatalf("MM_BENCH_RUNS: no run %q", n)
		}
		out = append(out, all[i])
	}
	return out
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s: want a positive integer, got %q", name, v)
	}
	return n
}

// median of f over rs (the lower middle one for an even count would favour
// nobody; the mean of the two middle ones is what a reader expects).
func median(rs []copyResult, f func(copyResult) float64) float64 {
	vs := make([]float64, len(rs))
	for i, r := range rs {
		vs[i] = f(r)
	}
	slices.Sort(vs)
	n := len(vs)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// copyTable is the table `make bench` prints: medians, and every round's
// copying rate so that the spread is visible.
func copyTable(runs []copyRun, results map[string][]copyResult, shape benchShape) string {
	rate := func(name string) float64 { return median(results[name], copyResult.copyingRate) }
	raw, stock := rate(copyRuns[0].name), rate(stockRun)
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nCopy rate: %d records of %d bytes with keys, %d partitions; medians of %d rounds\n\n",
		shape.records, shape.size, shape.partitions, len(results[runs[0].name]))
	fmt.Fprintln(&sb, "| run | records/s | MB/s | ratio to raw | ratio to stock | start-up | records/s whole run | rounds (records/s) |")
	fmt.Fprintln(&sb, "|---|---|---|---|---|---|---|---|")
	for _, r := range runs {
		rs := results[r.name]
		v := rate(r.name)
		var each []string
		for _, x := range rs {
			each = append(each, fmt.Sprintf("%.0f", x.copyingRate()))
		}
		first := time.Duration(median(rs, func(x copyResult) float64 { return float64(x.first) }))
		fmt.Fprintf(&sb, "| %s | %.0f | %.1f | %s | %s | %s | %.0f | %s |\n", r.name, v,
			v*float64(shape.size)/1e6, ratio(v, raw), ratio(v, stock), first.Round(100*time.Millisecond),
			median(rs, copyResult.wholeRate), strings.Join(each, ", "))
	}
	return sb.String()
}

func ratio(v, of float64) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v/of)
}
