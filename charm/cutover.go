package charm

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"mirrormaker-k8s/internal/migration"
	"mirrormaker-k8s/internal/mm2"
)

// Cutover parameters' defaults, as actions.yaml declares them.
const (
	defaultCutoverTimeout = 10 * time.Minute
	defaultQuietPeriod    = 10 * time.Second
	// verifySample is how many records at the end of each partition are compared by content
	// (plus a few spread over it) when counts can be taken from offsets.
	verifySample = 100
)

// cutoverParams are the cutover action's parameters, validated.
type cutoverParams struct {
	phase         string
	groups        []string // nil: every mirrored group
	timeout       time.Duration
	quietPeriod   time.Duration
	keepMirroring bool
	dryRun        bool
	// scanOffsets is how many offsets one exact-offset search may read through
	// (scan-limit); 0 for the default.
	scanOffsets int64
	// syncHold is how long MM2's group-offset sync may take to leave written offsets alone
	// (see holdOffsets); 0 when it is off.
	syncHold time.Duration
}

func parseCutoverParams(p map[string]any) (cutoverParams, error) {
	var c cutoverParams
	c.phase, _ = p["phase"].(string)
	if c.phase != "consumers" && c.phase != "producers" {
		return c, fmt.Errorf("phase: want consumers or producers, got %q", c.phase)
	}
	if s, _ := p["groups"].(string); strings.TrimSpace(s) != "" {
		for _, g := range strings.Split(s, ",") {
			if g = strings.TrimSpace(g); g != "" {
				c.groups = append(c.groups, g)
			}
		}
	}
	var err error
	if c.timeout, err = durationParam(p, "timeout", defaultCutoverTimeout); err != nil {
		return c, err
	}
	if c.quietPeriod, err = durationParam(p, "quiet-period", defaultQuietPeriod); err != nil {
		return c, err
	}
	c.keepMirroring, _ = p["keep-mirroring"].(bool)
	c.dryRun, _ = p["dry-run"].(bool)
	if v, ok := p["scan-limit"]; ok {
		n, ok := wholeNumber(v)
		if !ok || n < minScanOffsets || n > maxScanOffsets {
			return c, fmt.Errorf("scan-limit: want a whole number of offsets from %d to %d, got %v", minScanOffsets, int64(maxScanOffsets), v)
		}
		c.scanOffsets = n
	}
	return c, nil
}

// minScanOffsets is the smallest scan-limit: below a few thousand offsets a search cannot get
// past one producer batch of markers and compaction gaps.
const minScanOffsets = 1000

// maxScanOffsets is the largest scan-limit, a trillion offsets: far past any partition a search
// could read within an action, and small enough that its bytes (scanBytesPerOffset each) fit.
const maxScanOffsets = 1e12

// scanBytesPerOffset bounds the record bytes a search may read with the offsets it may: 256
// bytes each, 256 MiB for the default million.
const scanBytesPerOffset = 256

// scanLimit is the bound of each exact-offset search; the zero limit is the default.
func (p cutoverParams) scanLimit() migration.ScanLimit {
	if p.scanOffsets == 0 {
		return migration.ScanLimit{}
	}
	return migration.ScanLimit{Offsets: p.scanOffsets, Bytes: p.scanOffsets * scanBytesPerOffset}
}

func durationParam(p map[string]any, name string, def time.Duration) (time.Duration, error) {
	s, _ := p[name].(string)
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: want a positive duration such as 30s or 10m, got %q", name, s)
	}
	return d, nil
}

// cutover proves a switch-over step before the user takes it (see actions.yaml). Both phases
// are safe to run again: they re-derive everything from the clusters and give the same answer.
func (c *Charm) cutover(ctx context.Context, v view, params map[string]any) (map[string]string, error) {
	p, err := parseCutoverParams(params)
	if err != nil {
		return nil, fmt.Errorf("cannot cut over: %w", err)
	}
	if st, ok := v.problem(); ok {
		return nil, fmt.Errorf("cannot cut over: %s", st.message)
	}
	if !v.peers.migrating() && v.peers.migration() != migrationComplete {
		return nil, fmt.Errorf("cannot cut over: nothing is being mirrored; run start-migration first")
	}
	s, err := c.kafka.Open(ctx, *v.source.cluster, *v.target.cluster)
	if err != nil {
		return nil, fmt.Errorf("cannot cut over: %w", err)
	}
	defer s.Close()
	flow := mm2.NewFlow(v.cfg.sourceAlias, v.cfg.targetAlias, v.cfg.settings)
	deadline := c.now().Add(p.timeout)
	if v.cfg.settings.SyncGroupOffsets {
		p.syncHold = 2*time.Duration(v.cfg.settings.SyncGroupOffsetsIntervalSeconds)*time.Second + time.Second
	}
	if p.phase == "consumers" {
		return c.cutoverConsumers(ctx, s, &v.peers, flow, p, deadline)
	}
	return c.cutoverProducers(ctx, s, v, flow, p, deadline)
}

// cutoverProducers waits until producers have stopped and MM2 has copied everything, proves
// the copy partition by partition and, unless asked not to, stops MM2 for good.
func (c *Charm) cutoverProducers(ctx context.Context, s Session, v view, flow mm2.Flow, p cutoverParams, deadline time.Time) (map[string]string, error) {
	for {
		blocker, err := c.producerBlocker(ctx, s, flow, p.quietPeriod)
		if err != nil {
			if c.retryable(ctx, err, deadline, "watching the source") {
				continue
			}
			return nil, err
		}
		if blocker == "" {
			break
		}
		if !c.now().Before(deadline) {
			return nil, fmt.Errorf("producers cannot move yet after %s: %s", p.timeout, blocker)
		}
		c.progress(ctx, "waiting: %s", blocker)
		if err := c.sleep(ctx, c.pollEvery); err != nil {
			return nil, err
		}
	}
	c.progress(ctx, "source quiet for %s and every partition copied; proving the copy, topic by topic", p.quietPeriod)
	ver, err := c.verify(ctx, s, flow, deadline)
	if err != nil {
		return nil, fmt.Errorf("cannot verify the copy: %w", err)
	}
	if !ver.Equal {
		return nil, fmt.Errorf("the copy differs, nothing stopped: %s", numbered(differences(ver)))
	}
	results := producerResults(ver)
	endpoints := strings.Join(v.target.cluster.BootstrapServers, ",")
	switch {
	case p.dryRun:
		results["status"] = "dry run: the copy is proven, MirrorMaker 2 left running"
	case p.keepMirroring:
		results["status"] = "cutover verified; MirrorMaker 2 keeps mirroring (keep-mirroring=true)"
	default:
		if err := c.completeCutover(ctx, &v, endpoints); err != nil {
			return nil, err
		}
		results["status"] = cutoverCompleteResult(v.peers.units, endpoints)
	}
	return results, nil
}

// producerBlocker says what keeps producers from moving: a source still written to, or MM2
// not yet caught up. "" means neither.
func (c *Charm) producerBlocker(ctx context.Context, s Session, flow mm2.Flow, quiet time.Duration) (string, error) {
	moves, err := s.Quiet(ctx, flow, quiet)
	if err != nil {
		return "", fmt.Errorf("cannot watch the source: %w", err)
	}
	if len(moves) > 0 {
		m := moves[0]
		return fmt.Sprintf("the source is still written to (%d partition(s) moved in %s, e.g. %s/%d from %d to %d)",
			len(moves), quiet, m.Topic, m.Partition, m.Before, m.After), nil
	}
	view, err := s.Measure(ctx, flow)
	if err != nil {
		return "", fmt.Errorf("cannot measure the migration: %w", err)
	}
	if !view.CaughtUp() {
		if !view.Complete() {
			return fmt.Sprintf("cannot measure everything: %v", view.Errors[0]), nil
		}
		return fmt.Sprintf("%s records still to copy in %d partition(s)", thousands(view.RecordsBehind),
			len(view.Partitions)-view.PartitionsCaughtUp), nil
	}
	return "", nil
}

func producerResults(ver migration.Verification) map[string]string {
	r := map[string]string{
		"summary.source-records": i64(ver.SourceRecords),
		"summary.target-records": i64(ver.TargetRecords),
		"summary.partitions":     strconv.Itoa(len(ver.Partitions)),
	}
	type topicSum struct {
		name, target       string
		partitions, sample int
		src, dst           int64
		dups, outside      int64
		keys               int64
		compared           string
	}
	var topics []*topicSum
	byName := map[string]*topicSum{}
	sampled, dups := 0, int64(0)
	for _, pc := range ver.Partitions {
		t := byName[pc.Topic]
		if t == nil {
			t = &topicSum{name: pc.Topic, target: pc.TargetTopic}
			byName[pc.Topic] = t
			topics = append(topics, t)
		}
		t.partitions++
		t.src += pc.SourceRecords
		t.dst += pc.TargetRecords
		t.sample += pc.Sampled
		t.dups += pc.Duplicates
		t.outside += pc.SourceBefore + pc.TargetBefore
		t.keys += pc.Keys
		t.compared = comparedBy(t.compared, pc)
		sampled += pc.Sampled
		dups += pc.Duplicates
	}
	for i, t := range topics {
		k := "topics." + strconv.Itoa(i) + "."
		r[k+"name"], r[k+"target"] = t.name, t.target
		r[k+"partitions"] = strconv.Itoa(t.partitions)
		r[k+"source-records"] = i64(t.src)
		r[k+"target-records"] = i64(t.dst)
		r[k+"sampled"] = strconv.Itoa(t.sample)
		r[k+"compared"] = t.compared
		if t.keys > 0 {
			r[k+"keys"] = i64(t.keys)
		}
		if t.dups > 0 {
			r[k+"duplicates"] = i64(t.dups)
		}
		if t.outside > 0 {
			r[k+"outside-window"] = i64(t.outside)
		}
	}
	r["summary.sampled-records"] = strconv.Itoa(sampled)
	r["summary.duplicates"] = i64(dups)
	return r
}

// comparedBy says in words what the proof compared for a topic, given what
// its other partitions said so far.
func comparedBy(sofar string, pc migration.PartitionCheck) string {
	var how string
	switch pc.CountedBy {
	case migration.CountedByKeys:
		how = "latest value per key (compacted)"
	case migration.CountedByRecords:
		how = "every record in order, repeats counted"
	default:
		how = "counts by offsets and sampled records"
	}
	if pc.WithoutTimestamps {
		how += ", without timestamps (the target stamps LogAppendTime)"
	}
	switch {
	case sofar == "" || sofar == how:
		return how
	case strings.HasPrefix(sofar, "per partition: "):
		if strings.Contains(sofar, how) {
			return sofar
		}
		return sofar + "; " + how
	}
	return "per partition: " + sofar + "; " + how
}

func differences(ver migration.Verification) []string {
	var out []string
	for _, pc := range ver.Partitions {
		switch {
		case pc.Err != nil:
			out = append(out, fmt.Sprintf("%s/%d: %v", pc.Topic, pc.Partition, pc.Err))
		case !pc.Equal && pc.Why != "":
			out = append(out, fmt.Sprintf("%s/%d: %s", pc.Topic, pc.Partition, pc.Why))
		case !pc.Equal && pc.SourceRecords != pc.TargetRecords:
			out = append(out, fmt.Sprintf("%s/%d: %d records on the source, %d on the target", pc.Topic, pc.Partition,
				pc.SourceRecords, pc.TargetRecords))
		case !pc.Equal:
			out = append(out, fmt.Sprintf("%s/%d: sampled records differ", pc.Topic, pc.Partition))
		}
	}
	return out
}

// completeCutover records the finished cutover: every unit stops MM2 and shows where clients go.
func (c *Charm) completeCutover(ctx context.Context, v *view, endpoints string) error {
	if err := c.setMigration(ctx, &v.peers, migrationComplete, c.now()); err != nil {
		return err
	}
	if err := c.setCutoverEndpoints(ctx, &v.peers, endpoints); err != nil {
		return err
	}
	if err := c.applyAndReport(ctx, *v); err != nil {
		return err
	}
	return c.setAppStatus(ctx, statusCutoverComplete(endpoints))
}

// cutoverCompleteResult is the producers phase's last word. It claims only what it saw: the
// leader stopped its own MM2 before answering; the other units stop theirs when they read the
// leader's decision, after this action ends, and their statuses say when they have.
func cutoverCompleteResult(units int, endpoints string) string {
	if units <= 1 {
		return "cutover complete: MirrorMaker 2 stopped; clients may use " + endpoints
	}
	return fmt.Sprintf("cutover complete: MirrorMaker 2 stopped on the leader, stop requested on the other %d unit(s) "+
		"(their status shows when done); clients may use %s", units-1, endpoints)
}

// progress is the line users see while the action runs.
func (c *Charm) progress(ctx context.Context, format string, args ...any) {
	_ = c.tools.ActionLog(ctx, fmt.Sprintf(format, args...))
}

func numbered(items []string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = fmt.Sprintf("(%d) %s", i+1, s)
	}
	return strings.Join(out, "; ")
}
