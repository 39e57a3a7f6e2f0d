package charm

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"mirrormaker-k8s/internal/workload"
)

// Keys of the peer relation's application databag: the leader's durable decisions, which every
// unit follows. Kept there, not in a unit's memory, so they survive restarts, upgrades and a
// change of leader. Values are read by earlier and later revisions alike: never change a key or
// an encoding, only add.
const (
	keyMigration        = "migration" // a migrationState
	keyChangedAt        = "migration-changed-at"
	keyCutoverEndpoints = "cutover-endpoints"
	keyConsumersMoved   = "cutover-consumers-moved" // a consumersMoved
	keyMigrationFlow    = "migration-flow"          // a flowID
)

// keyUnitMM2 is the key of each unit's own peer databag where it keeps its MM2 service state,
// which other units do need: the leader names units whose MM2 is down. Encoded by unitMM2.
const keyUnitMM2 = "mm2"

// Keys of the leader's sync view. The leader keeps its last status line and lag sample in its
// own unit state (state-set), which no other unit observes: the line survives hooks that do not
// measure, the sample gives the next measurement a trend for its ETA. In the peer databags they
// would fire relation-changed on every unit at every update-status; earlier revisions kept them
// in the application databag, from which the leader drops them (dropOldSyncKeys).
const (
	keySyncLine   = "sync-status" // "<kind> <message>", encoded by newSyncMemo
	keySyncSample = "sync-sample" // encoded by sample.String
)

// migrationState is the leader's decision on mirroring, as stored under keyMigration.
type migrationState string

const (
	migrationNone     migrationState = "" // never started
	migrationStarted  migrationState = "started"
	migrationStopped  migrationState = "stopped"
	migrationComplete migrationState = "cutover-complete" // the producers phase proved the copy and stopped MM2
)

// peers is this unit's view of the peer relation. Only the methods in this file read its
// databags, so the keys and their encodings live in one place.
type peers struct {
	id     string            // "" before cluster-relation-created
	app    map[string]string // the application databag
	others []string          // the other units, as relation-list names them
	units  int               // units of the application, this one included
}

// migration is the leader's latest decision.
func (p peers) migration() migrationState { return migrationState(p.app[keyMigration]) }

func (p peers) migrating() bool { return p.migration() == migrationStarted }

// changedAt stamps the leader's latest decision; units echo it with their MM2 state.
func (p peers) changedAt() string { return p.app[keyChangedAt] }

// cutoverEndpoints are the target's bootstrap servers, recorded when the cutover completed.
func (p peers) cutoverEndpoints() string { return p.app[keyCutoverEndpoints] }

// hasOldSyncKeys reports sync keys an earlier revision left in the application databag.
func (p peers) hasOldSyncKeys() bool { return p.app[keySyncLine] != "" || p.app[keySyncSample] != "" }

// remember keeps what the leader just wrote, so the rest of this dispatch reads it.
func (p *peers) remember(data map[string]string) {
	if p.app == nil {
		p.app = map[string]string{}
	}
	for k, v := range data {
		p.app[k] = v
	}
}

func (c *Charm) readPeers(ctx context.Context) (peers, error) {
	p := peers{units: 1}
	id, err := c.relationID(ctx, PeerEndpoint)
	if err != nil || id == "" {
		return p, err
	}
	p.id = id
	if p.app, err = c.tools.RelationGet(ctx, id, c.hook.App, true); err != nil {
		return p, fmt.Errorf("cannot read the peer application data: %w", err)
	}
	if p.others, err = c.tools.RelationUnits(ctx, id); err != nil {
		return p, fmt.Errorf("cannot list peer units: %w", err)
	}
	p.units += len(p.others)
	return p, nil
}

// setMigration records the leader's decision for every unit to follow.
func (c *Charm) setMigration(ctx context.Context, p *peers, state migrationState, now time.Time) error {
	if p.id == "" {
		return fmt.Errorf("cannot record the migration state: the peer relation does not exist yet; try again shortly")
	}
	data := map[string]string{keyMigration: string(state), keyChangedAt: now.UTC().Format(time.RFC3339)}
	if err := c.tools.RelationSet(ctx, p.id, true, data); err != nil {
		return fmt.Errorf("cannot record the migration state: %w", err)
	}
	p.remember(data)
	return nil
}

// flowID is what names a migration's topics, fixed once MM2 has started: the aliases name MM2's
// internal topics, Connect offsets and checkpoints, and with the policy the target topics.
// Stored as "<source alias> <target alias> <replication policy>".
type flowID struct{ source, target, policy string }

func (f flowID) String() string { return f.source + " " + f.target + " " + f.policy }

func flowIDOf(cfg config) flowID {
	return flowID{cfg.sourceAlias, cfg.targetAlias, cfg.settings.ReplicationPolicy}
}

// flow is the flow the migration started with; ok is false before start-migration recorded it.
func (p peers) flow() (f flowID, ok bool) {
	parts := strings.Fields(p.app[keyMigrationFlow])
	if len(parts) != 3 {
		return f, false
	}
	return flowID{parts[0], parts[1], parts[2]}, true
}

// setFlow records the flow a migration runs with.
func (c *Charm) setFlow(ctx context.Context, p *peers, f flowID) error {
	data := map[string]string{keyMigrationFlow: f.String()}
	if err := c.tools.RelationSet(ctx, p.id, true, data); err != nil {
		return fmt.Errorf("cannot record the migration's flow: %w", err)
	}
	p.remember(data)
	return nil
}

// flowChange is the config problem of an alias or policy changed while a migration is under way
// (started or stopped, to resume): MM2 would start again under new names, with new internal
// topics, and copy everything a second time. nil when nothing changed or nothing was recorded.
func (p peers) flowChange(cfg config) *ConfigError {
	was, ok := p.flow()
	if !ok || (p.migration() != migrationStarted && p.migration() != migrationStopped) {
		return nil
	}
	now := flowIDOf(cfg)
	for _, o := range []struct{ option, was, now string }{
		{"source-alias", was.source, now.source},
		{"target-alias", was.target, now.target},
		{"replication-policy", was.policy, now.policy},
	} {
		if o.was != o.now {
			return &ConfigError{Option: o.option, Reason: fmt.Sprintf("cannot change while a migration is under way "+
				"(it started with %q, which names MM2's internal and target topics): set it back, "+
				"or deploy a new application to migrate afresh", o.was)}
		}
	}
	return nil
}

// consumersMoved is what the last consumers phase did, as stored under keyConsumersMoved:
// "<groups moved> <groups judged>".
type consumersMoved struct{ moved, judged int }

func (m consumersMoved) String() string { return fmt.Sprintf("%d %d", m.moved, m.judged) }

// consumersMoved is what the last consumers phase did; ok is false before any wrote a group.
func (p peers) consumersMoved() (m consumersMoved, ok bool) {
	moved, judged, found := strings.Cut(p.app[keyConsumersMoved], " ")
	if !found {
		return m, false
	}
	var err1, err2 error
	m.moved, err1 = strconv.Atoi(moved)
	m.judged, err2 = strconv.Atoi(judged)
	return m, err1 == nil && err2 == nil && m.judged > 0
}

// setConsumersMoved records what a consumers phase wrote, for the sync line.
func (c *Charm) setConsumersMoved(ctx context.Context, p *peers, m consumersMoved) error {
	data := map[string]string{keyConsumersMoved: m.String()}
	if err := c.tools.RelationSet(ctx, p.id, true, data); err != nil {
		return fmt.Errorf("cannot record the groups moved: %w", err)
	}
	p.remember(data)
	return nil
}

// setCutoverEndpoints records where clients go once the cutover is complete.
func (c *Charm) setCutoverEndpoints(ctx context.Context, p *peers, endpoints string) error {
	data := map[string]string{keyCutoverEndpoints: endpoints}
	if err := c.tools.RelationSet(ctx, p.id, true, data); err != nil {
		return fmt.Errorf("cannot record the cutover: %w", err)
	}
	p.remember(data)
	return nil
}

// dropOldSyncKeys removes the sync line and sample that earlier revisions kept in the peer
// application databag, once, so they stop showing stale numbers to anyone reading it.
func (c *Charm) dropOldSyncKeys(ctx context.Context, p *peers) error {
	if p.id == "" || !p.hasOldSyncKeys() {
		return nil
	}
	drop := map[string]string{keySyncLine: "", keySyncSample: ""}
	if err := c.tools.RelationSet(ctx, p.id, true, drop); err != nil {
		return fmt.Errorf("cannot drop the old sync keys from the peer data: %w", err)
	}
	p.remember(drop) // the leader is not told of its own writes: see CacheFile
	return nil
}

// unitMM2 is a unit's account of its MM2 under keyUnitMM2, "<state> <changed-at>": the
// service state, stamped with the leader's decision the unit had seen.
type unitMM2 struct {
	state workload.ServiceState
	stamp string
}

func (u unitMM2) String() string { return string(u.state) + " " + u.stamp }

func parseUnitMM2(s string) unitMM2 {
	state, stamp, _ := strings.Cut(s, " ")
	return unitMM2{workload.ServiceState(state), stamp}
}

// publishServiceState records this unit's MM2 state in its peer databag when it changed,
// stamped with the leader's decision it follows, so the leader can tell a unit that is down
// from one that has not yet seen the decision.
func (c *Charm) publishServiceState(ctx context.Context, p peers, state workload.ServiceState) error {
	if p.id == "" {
		return nil
	}
	want := unitMM2{state, p.changedAt()}.String()
	r := c.cache.rec
	if r == nil || r.Published == nil {
		mine, err := c.tools.RelationGet(ctx, p.id, c.hook.Unit, false)
		if err != nil {
			return fmt.Errorf("cannot read this unit's peer data: %w", err)
		}
		if mine[keyUnitMM2] == want {
			c.published(want)
			return nil
		}
	} else if *r.Published == want {
		return nil
	}
	if err := c.tools.RelationSet(ctx, p.id, false, map[string]string{keyUnitMM2: want}); err != nil {
		return fmt.Errorf("cannot record this unit's MM2 state: %w", err)
	}
	c.published(want)
	return nil
}

// published keeps what this unit's peer data holds under keyUnitMM2 for the cache: only this
// unit writes there, and the cache is written only when the hook, and so the write, succeeds.
func (c *Charm) published(value string) {
	if r := c.cache.rec; r != nil {
		r.Published = &value
		c.cache.learned()
	}
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
	for _, u := range p.others {
		value, err := c.peerUnitMM2(ctx, p.id, u)
		if err != nil {
			return nil, err
		}
		if acc := parseUnitMM2(value); acc.stamp == p.changedAt() && !acc.state.Running() {
			down = append(down, u)
		}
	}
	return down, nil
}

// peerUnitMM2 is another unit's account of its MM2, read once: it changes only with
// cluster-relation-changed on this unit, which reads the model afresh (see CacheFile).
func (c *Charm) peerUnitMM2(ctx context.Context, relID, unit string) (string, error) {
	r := c.cache.rec
	if r != nil {
		if v, ok := r.PeerUnits[unit]; ok {
			return v, nil
		}
	}
	data, err := c.tools.RelationGet(ctx, relID, unit, false)
	if err != nil {
		return "", fmt.Errorf("cannot read %s's peer data: %w", unit, err)
	}
	if r != nil {
		if r.PeerUnits == nil {
			r.PeerUnits = map[string]string{}
		}
		r.PeerUnits[unit] = data[keyUnitMM2]
		c.cache.learned()
	}
	return data[keyUnitMM2], nil
}

// syncMemo is the leader's own unit state (state-get): its last sync line and lag sample.
type syncMemo map[string]string

// line is the leader's last sync line, for hooks that do not measure.
func (m syncMemo) line() (status, bool) {
	kind, msg, ok := strings.Cut(m[keySyncLine], " ")
	if !ok || msg == "" {
		return status{}, false
	}
	return status{kind, msg}, true
}

// sample is the leader's last lag sample, or nil before the first.
func (m syncMemo) sample() *sample {
	s, ok := parseSample(m[keySyncSample])
	if !ok {
		return nil
	}
	return &s
}

// newSyncMemo is what the leader keeps of a measurement: its line and, when the lag was
// known, its sample. A missing sample leaves the previous one in place.
func newSyncMemo(line status, s *sample) syncMemo {
	m := syncMemo{keySyncLine: line.kind + " " + line.message}
	if s != nil {
		m[keySyncSample] = s.String()
	}
	return m
}

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
