package charm

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/workload"
)

// Keys of the sync view. The leader keeps its last status line and lag sample in its own unit
// state (state-set), which no other unit observes: the line survives hooks that do not measure,
// the sample gives the next measurement a trend for its ETA. In the peer databags they would
// fire relation-changed on every unit at every update-status. Each unit keeps its own MM2
// service state in its unit databag, which others do need: the leader names units whose MM2 is
// down.
const (
	keySyncLine   = "sync-status"
	keySyncSample = "sync-sample"
	keyUnitMM2    = "mm2"
)

// sample is one lag measurement, stored as "<unix seconds> <records behind>".
type sample struct {
	at     time.Time
	behind int64
}

func (s sample) String() string { return fmt.Sprintf("%d %d", s.at.Unix(), s.behind) }

func parseSample(s string) (sample, bool) {
	at, behind, ok := strings.Cut(s, " ")
	if !ok {
		return sample{}, false
	}
	sec, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(behind, 10, 64)
	if err1 != nil || err2 != nil {
		return sample{}, false
	}
	return sample{at: time.Unix(sec, 0), behind: n}, true
}

// summary is the leader's one-line account of the migration and the status it deserves.
type summary struct {
	status status
	sample sample
	ok     bool // a sample was taken (lag known)
}

// summarize turns a measurement into the status line users read in `juju status` (statusSync
// words it). prev, when set, is the previous sample; the ETA is the current lag over the rate at
// which it fell since then.
func summarize(view kafka.SyncView, prev *sample, now time.Time, down []string) summary {
	line := syncLine{
		topics:        len(view.Topics),
		partitions:    len(view.Partitions),
		phase:         phaseBehind,
		behind:        view.RecordsBehind,
		groupsSynced:  view.GroupsSynced,
		groupsCounted: view.GroupsCounted,
		down:          down,
	}
	switch {
	case line.partitions > 0 && view.PartitionsUnknown == line.partitions:
		line.phase = phaseLagUnknown
	case view.CaughtUp():
		line.phase = phaseInSync
	case !view.MirrorStarted:
		line.phase = phaseStarting
	default:
		line.eta = etaOf(prev, view.RecordsBehind, now)
	}
	if !view.Complete() {
		line.unmeasured, line.firstError = len(view.Errors), view.Errors[0].Error()
	}
	next := sample{at: now, behind: view.RecordsBehind}
	if prev != nil && now.Sub(prev.at) < minTrend {
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

// etaOf estimates when the lag reaches zero at the rate it fell since prev. It says nothing
// when there is no trend yet, and says so when the lag is not falling.
func etaOf(prev *sample, behind int64, now time.Time) string {
	if prev == nil || behind <= 0 {
		return ""
	}
	if now.Sub(prev.at) < minTrend {
		return ""
	}
	elapsed := now.Sub(prev.at).Seconds()
	rate := float64(prev.behind-behind) / elapsed
	if rate <= 0 {
		return "not catching up"
	}
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

// publishServiceState records this unit's MM2 state in its peer databag when it changed,
// stamped with the leader's decision it follows, so the leader can tell a unit that is down
// from one that has not yet seen the decision.
func (c *Charm) publishServiceState(ctx context.Context, p peers, state workload.ServiceState) error {
	if p.id == "" {
		return nil
	}
	want := string(state) + " " + p.app[keyChangedAt]
	mine, err := c.tools.RelationGet(ctx, p.id, c.hook.Unit, false)
	if err != nil {
		return fmt.Errorf("cannot read this unit's peer data: %w", err)
	}
	if mine[keyUnitMM2] == want {
		return nil
	}
	if err := c.tools.RelationSet(ctx, p.id, false, map[string]string{keyUnitMM2: want}); err != nil {
		return fmt.Errorf("cannot record this unit's MM2 state: %w", err)
	}
	return nil
}

// unitsDown lists the units whose MM2 is not running although the migration is, by their own
// account in the peer databags; the leader's own state comes from its workload. A unit whose
// account predates the leader's latest decision is still catching up, not down.
func (c *Charm) unitsDown(ctx context.Context, p peers, ownState workload.ServiceState) ([]string, error) {
	var down []string
	if !ownState.Running() {
		down = append(down, c.hook.Unit)
	}
	if p.id == "" {
		return down, nil
	}
	others, err := c.tools.RelationUnits(ctx, p.id)
	if err != nil {
		return nil, fmt.Errorf("cannot list peer units: %w", err)
	}
	for _, u := range others {
		data, err := c.tools.RelationGet(ctx, p.id, u, false)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s's peer data: %w", u, err)
		}
		state, stamp, _ := strings.Cut(data[keyUnitMM2], " ")
		if stamp == p.app[keyChangedAt] && !workload.ServiceState(state).Running() {
			down = append(down, u)
		}
	}
	return down, nil
}

// reportSync is the leader's measurement after update-status and actions: it sets the unit
// and application status to the sync line and keeps the line and sample for the next hooks.
func (c *Charm) reportSync(ctx context.Context, v view, now time.Time) error {
	if !v.leader || !v.peers.migrating() {
		return nil
	}
	if _, blocked := v.problem(); blocked {
		return nil
	}
	state, err := c.workload.ServiceState()
	if err != nil {
		return fmt.Errorf("cannot read the MirrorMaker 2 service state: %w", err)
	}
	down, err := c.unitsDown(ctx, v.peers, state)
	if err != nil {
		return err
	}
	view, err := c.measure(ctx, v)
	var st status
	data := map[string]string{}
	switch ce, isCE := isClusterError(err); {
	case isCE && sideOf(ce) == Source:
		st = statusWaitingCluster(ce)
	case err != nil && !isCE:
		st = statusWaitingMeasure(err)
	default:
		var prev *sample
		if s, ok := parseSample(v.state[keySyncSample]); ok {
			prev = &s
		}
		sum := summarize(view, prev, now, down)
		st = sum.status
		if isCE {
			st = statusWaitingTarget(ce, st)
		}
		if sum.ok {
			data[keySyncSample] = sum.sample.String()
		}
	}
	data[keySyncLine] = st.kind + " " + st.message
	if err := c.tools.StateSet(ctx, data); err != nil {
		return fmt.Errorf("cannot record the sync view: %w", err)
	}
	return c.setStatus(ctx, v, st) // the leader's: unit and application
}

// storedSync is the leader's last sync line, for hooks that do not measure.
func storedSync(state map[string]string) (status, bool) {
	name, msg, ok := strings.Cut(state[keySyncLine], " ")
	if !ok || msg == "" {
		return status{}, false
	}
	return status{name, msg}, true
}

// measured is one dispatch's measurement, kept so an action and the status after it share it.
type measured struct {
	view kafka.SyncView
	err  error
}

// measure takes the sync view once per dispatch.
func (c *Charm) measure(ctx context.Context, v view) (kafka.SyncView, error) {
	if c.measured == nil {
		view, err := c.kafka.Measure(ctx, *v.source.cluster, *v.target.cluster, flowOf(v.cfg))
		c.measured = &measured{view, err}
	}
	return c.measured.view, c.measured.err
}
