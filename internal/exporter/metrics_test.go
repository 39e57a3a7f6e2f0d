package exporter

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/migration"
	"mirrormaker-k8s/internal/mm2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// midMigration is a view with every kind of figure: a partition caught up, one behind, one
// unknown, a synced group, one held back by an old checkpoint, one with no checkpoint.
func midMigration() snapshot {
	view := migration.SyncView{
		Taken: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC),
		Partitions: []migration.PartitionLag{
			{Topic: "orders", Partition: 0, SourceStart: 0, SourceEnd: 100, Committed: 99, Lag: 0, TargetEnd: 100},
			{Topic: "orders", Partition: 1, SourceStart: 10, SourceEnd: 60, Committed: 29, Lag: 30, TargetEnd: 20},
			{Topic: `we"ird\topic`, Partition: 0, SourceStart: -1, SourceEnd: -1, Committed: -1, Lag: -1, TargetEnd: -1, Err: errors.New("broker down")},
		},
		Groups: []migration.GroupView{
			{Group: "billing", Counted: true, Synced: true, Partitions: []migration.GroupPartition{
				{Topic: "orders", Partition: 0, SourceCommitted: 100, TargetCommitted: 100, Checkpoint: &mm2.Checkpoint{UpstreamOffset: 100, DownstreamOffset: 100}, Synced: true},
			}},
			{Group: "shop", Counted: true, Partitions: []migration.GroupPartition{
				{Topic: "orders", Partition: 1, SourceCommitted: 40, TargetCommitted: 12, Checkpoint: &mm2.Checkpoint{UpstreamOffset: 25, DownstreamOffset: 12}},
				{Topic: "orders", Partition: 0, SourceCommitted: 3, TargetCommitted: -1},
			}},
			{Group: "idle"},
		},
		Errors:        []migration.ItemError{{Item: "source broker 3", Err: errors.New("refused")}},
		GroupsCounted: 2, GroupsSynced: 1,
	}
	return snapshot{
		cfg:      Config{Active: true, Mirroring: true, CutoverPhase: PhaseConsumers},
		measured: true, view: view, up: map[string]bool{"source": true, "target": true},
		took: 1500 * time.Millisecond, requests: map[string]int{"source": 7, "target": 5},
	}
}

func page(t *testing.T, s snapshot) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, write(&b, families(s)))
	return b.String()
}

func TestPageGolden(t *testing.T) {
	for name, s := range map[string]snapshot{
		"mid-migration": midMigration(),
		"standby":       {cfg: Config{Mirroring: true}},
		"unmeasured":    {cfg: Config{Active: true}},
	} {
		t.Run(name, func(t *testing.T) {
			got := page(t, s)
			path := filepath.Join("testdata", name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, string(want), got)
		})
	}
}

// A standby unit (not the leader) must not show figures: Prometheus scrapes every unit, and a
// sum over units would count each partition once per unit.
func TestGivenStandbyThenNoFigures(t *testing.T) {
	s := midMigration()
	s.cfg.Active = false
	assert.Equal(t, []string{"mirrormaker_cutover_phase", "mirrormaker_exporter_active", "mirrormaker_mirroring"}, names(families(s)))
}

func TestRecordsBehindLeavesUnknownPartitionsOut(t *testing.T) {
	got := page(t, midMigration())
	assert.Contains(t, got, "mirrormaker_records_behind{topic=\"orders\",partition=\"1\"} 30\n")
	assert.Contains(t, got, "mirrormaker_records_behind{topic=\"orders\",partition=\"0\"} 0\n")
	assert.NotContains(t, got, `mirrormaker_records_behind{topic="we`)
	assert.Contains(t, got, `mirrormaker_partitions{state="unknown"} 1`)
	// The label value is escaped as the text format wants: \" and \\.
	assert.Contains(t, got, `mirrormaker_replicated_offset{topic="we\"ird\\topic",partition="0"} -1`)
	assert.Contains(t, got, `mirrormaker_checkpoint_lag{group="shop",topic="orders",partition="1"} 15`)
	assert.NotContains(t, got, `mirrormaker_checkpoint_lag{group="shop",topic="orders",partition="0"}`)
	assert.NotContains(t, got, `group="idle"`, "a group with nothing to carry is not counted")
	for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
		if !strings.HasPrefix(line, "#") {
			assert.Regexp(t, `^mirrormaker_[a-z_]+(\{.*\})? -?[0-9.e+]+$`, line)
		}
	}
}

// BenchmarkPage renders the page of a migration of 2,000 partitions and 200 groups of 100
// partitions each, as the exporter does after every measurement (the measurement's own cost is
// BenchmarkMeasure/exporter in package migration).
func BenchmarkPage(b *testing.B) {
	s := midMigration()
	s.view.Partitions, s.view.Groups = nil, nil
	for t := range 20 {
		for p := range int32(100) {
			s.view.Partitions = append(s.view.Partitions, migration.PartitionLag{
				Topic: "topic-" + strconv.Itoa(t), Partition: p, SourceStart: 0, SourceEnd: 5, Committed: 4, TargetEnd: 5,
			})
		}
	}
	for g := range 200 {
		gv := migration.GroupView{Group: "group-" + strconv.Itoa(g), Counted: true, Synced: true}
		for p := range int32(100) {
			gv.Partitions = append(gv.Partitions, migration.GroupPartition{
				Topic: "topic-" + strconv.Itoa(g%20), Partition: p, SourceCommitted: 3, TargetCommitted: 3,
				Checkpoint: &mm2.Checkpoint{UpstreamOffset: 3, DownstreamOffset: 3}, Synced: true,
			})
		}
		s.view.Groups = append(s.view.Groups, gv)
	}
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := write(&buf, families(s)); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "page-bytes")
}

// names lists the metric names a page of s holds, for tests.
func names(fams []*family) []string {
	var out []string
	for _, f := range fams {
		if len(f.samples) > 0 {
			out = append(out, f.name)
		}
	}
	slices.Sort(out)
	return out
}
