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

// summary is the leader's one-line account of the migration and the status it deserves.
type summary struct {
	status status
	sample sample
	ok     bool // a sample was taken (lag known)
}

// summarize turns a measurement into the status line users read in `juju status` (statusSync
// words it). prev, when set, is the previous sample; the ETA is the current lag over the rate at
// which it fell since then. flush is MM2's offset flush interval: the figure moves only as often.
// moved, once a consumers phase wrote exact offsets, replaces the groups MM2 synced.
func summarize(view migration.SyncView, prev *sample, now time.Time, flush time.Duration, down []string, moved *consumersMoved) summary {
	line := syncLine{
		topics:            len(view.Topics),
		partitions:        len(view.Partitions),
		phase:             phaseBehind,
		behind:            view.RecordsBehind,
		groupsSynced:      view.GroupsSynced,
		groupsCounted:     view.GroupsCounted,
		groupsCutoverOnly: view.GroupsCutoverOnly,
		down:              down,
		consumersMoved:    moved,
	}
	switch {
	case line.partitions > 0 && view.PartitionsUnknown == line.partitions:
		line.phase = phaseLagUnknown
	case view.CaughtUp():
		line.phase = phaseInSync
	case !view.MirrorStarted:
		line.phase = phaseStarting
	default:
		line.eta = etaOf(prev, view.RecordsBehind, now, flush)
	}
	if !view.Complete() {
		line.unmeasured, line.firstError = len(view.Errors), view.Errors[0].Error()
	}
	next := sample{at: now, behind: view.RecordsBehind}
	if prev != nil && now.Sub(prev.at) <= trendSpan(flush) {
		next = *prev // too close to the last one to show a trend: keep the older sample
	}
	return summary{
		status: statusSync(line),
		sample: next,
		ok:     view.PartitionsUnknown == 0,
	}
}

// minTrend is the shortest span an ETA is computed over. Within one offset flush interval the
// figure may not move at all, and an action right after update-status must not read that as
// "not catching up".
const minTrend = 10 * time.Second

// trendSpan is the span a trend must be measured over: more than minTrend, and more than one
// offset flush interval, since records behind is counted from MM2's flushed position.
func trendSpan(flush time.Duration) time.Duration { return max(minTrend, flush) }

// etaOf estimates when the lag reaches zero at the rate it fell since prev. It says nothing
// when there is no trend yet (prev is within trendSpan) or the figure has not moved, and says
// "not catching up" only when the lag grew.
func etaOf(prev *sample, behind int64, now time.Time, flush time.Duration) string {
	if prev == nil || behind <= 0 || now.Sub(prev.at) <= trendSpan(flush) {
		return ""
	}
	switch {
	case behind > prev.behind:
		return "not catching up" // grew over more than a flush interval: producers outpace MM2
	case behind == prev.behind:
		// Unmoved: MM2 may not have flushed its position since (it flushes late right after
		// it starts), so nothing can be said either way.
		return ""
	}
	rate := float64(prev.behind-behind) / now.Sub(prev.at).Seconds()
	return "ETA " + roughDuration(time.Duration(float64(behind)/rate*float64(time.Second)))
}

// roughDuration rounds to what a person plans with: seconds under a minute, minutes under an
// hour, then hours and minutes.
func roughDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(int(d.Seconds()), 1))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute).Minutes()))
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// thousands writes n with comma separators, as the status line is read at a glance.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// reportSync is the leader's measurement after update-status and actions: it sets the unit
// and application status to the sync line and keeps the line and sample for the next hooks.
func (c *Charm) reportSync(ctx context.Context, v view, now time.Time) error {
	if !v.measures() {
		return nil
	}
	state, err := c.serviceState()
	if err != nil {
		return err
	}
	down, err := c.unitsDown(ctx, v.peers, state)
	if err != nil {
		return err
	}
	memo, err := c.memo(ctx)
	if err != nil {
		return err
	}
	view, err := c.measure(ctx, v)
	var st status
	var next *sample
	switch ce, isCE := isClusterError(err); {
	case isCE && ce.Side == Source:
		st = statusWaitingCluster(ce)
	case err != nil && !isCE:
		st = statusWaitingMeasure(err)
	default:
		flush := time.Duration(v.cfg.settings.OffsetFlushIntervalSeconds) * time.Second
		var moved *consumersMoved
		if m, ok := v.peers.consumersMoved(); ok {
			moved = &m
		}
		sum := summarize(view, memo.sample(), now, flush, down, moved)
		st = sum.status
		if isCE {
			st = statusWaitingTarget(ce, st)
		}
		if sum.ok {
			next = &sum.sample
		}
	}
	written := newSyncMemo(st, next)
	if err := c.tools.StateSet(ctx, written); err != nil {
		return fmt.Errorf("cannot record the sync view: %w", err)
	}
	c.rememberMemo(memo, written)
	return c.setStatus(ctx, v, st) // the leader's: unit and application
}

// measured is one dispatch's measurement, kept so an action and the status after it share it.
type measured struct {
	view migration.SyncView
	err  error
}

// measure takes the sync view once per dispatch; a hook's within hookBudget.
func (c *Charm) measure(ctx context.Context, v view) (migration.SyncView, error) {
	if c.measured == nil {
		if !c.hook.IsAction() {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.hookBudget)
			defer cancel()
		}
		view, err := c.kafka.Measure(ctx, *v.source.cluster, *v.target.cluster, mm2.NewFlow(v.cfg.sourceAlias, v.cfg.targetAlias, v.cfg.settings))
		c.measured = &measured{view, err}
	}
	return c.measured.view, c.measured.err
}
