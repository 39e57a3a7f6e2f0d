package charm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"mirrormaker-k8s/internal/migration"
	"mirrormaker-k8s/internal/mm2"
)

// cutoverConsumers waits until the groups can move, finds the exact target offset of every
// source committed position and writes it into the (empty) target groups.
//
// Groups are independent: when the timeout comes with some groups still blocked, or a group
// has a partition that cannot be translated exactly, every other group is still moved, and
// the action fails naming each group left behind with its reason. Nothing is written for
// those; running the phase again once they are fixed moves them (a group already moved is
// translated and written again to the same offsets).
func (c *Charm) cutoverConsumers(ctx context.Context, s Session, pr *peers, flow mm2.Flow, p cutoverParams, deadline time.Time) (map[string]string, error) {
	gates, err := c.awaitGates(ctx, s, flow, p, deadline)
	if err != nil {
		return nil, err
	}
	ready := gates.Ready()
	if len(ready) == 0 {
		return nil, fmt.Errorf("consumers cannot move yet after %s: %s", p.timeout, numbered(gates.Blockers))
	}
	c.progress(ctx, "gates open for %d group(s); translating committed offsets exactly", len(ready))
	exact, err := c.exactOffsets(ctx, s, flow, ready, p.scanLimit(), deadline)
	if err != nil {
		return nil, fmt.Errorf("cannot translate the group offsets: %w", err)
	}
	movable, left := splitExact(exact)
	for _, g := range gates.Groups {
		if bs := gates.Blocked[g]; len(bs) > 0 {
			lines := make([]string, len(bs))
			for i, b := range bs {
				lines[i] = "group " + g + ": " + b
			}
			left = append(left, leftBehind{g, lines})
		}
	}
	sort.Slice(left, func(i, j int) bool { return left[i].group < left[j].group })
	if len(movable) == 0 {
		return nil, fmt.Errorf("cannot translate every offset exactly, nothing written: %s", numbered(reasonsOf(left)))
	}
	if !p.dryRun {
		for _, g := range movable {
			if err := s.WriteGroupOffsets(ctx, g.Group, g.Targets()); err != nil {
				return nil, fmt.Errorf("cannot write the offsets of group %s: %w", g.Group, err)
			}
			c.progress(ctx, "group %s: exact offsets written to the target and read back", g.Group)
		}
		var rewound []leftBehind
		if movable, rewound, err = c.holdOffsets(ctx, s, movable, p.syncHold); err != nil {
			return nil, err
		}
		left = append(left, rewound...)
		sort.Slice(left, func(i, j int) bool { return left[i].group < left[j].group })
		if err := c.setConsumersMoved(ctx, pr, consumersMoved{len(movable), len(gates.Groups)}); err != nil {
			// The groups are moved on the target whatever this unit can record: say which.
			return consumerResults(movable, left, false), fmt.Errorf("the exact offsets of %d group(s) are written "+
				"(see the results), but %w", len(movable), err)
		}
	}
	results := consumerResults(movable, left, p.dryRun)
	if len(left) > 0 {
		return results, fmt.Errorf("%s; %d group(s) left behind, nothing written for them: %s; "+
			"run cutover phase=consumers again once they can move", results["status"], len(left), numbered(reasonsOf(left)))
	}
	return results, nil
}

// holdRounds is how many times a group rewound by MM2's group-offset sync is written again.
const holdRounds = 3

// holdOffsets waits until MM2's group-offset sync leaves the written offsets alone: it may
// rewind them to its own coarser translation up to one sync interval after they were written
// (see migration.Pair.WriteGroupOffsets), and never again once it has seen them, so hold is
// two intervals. A group found rewound is written again, up to holdRounds times; one that still
// does not hold is left behind, holding MM2's translation, which replays records but skips none.
func (c *Charm) holdOffsets(ctx context.Context, s Session, groups []migration.GroupOffsets, hold time.Duration) (held []migration.GroupOffsets, left []leftBehind, err error) {
	pending := groups
	for round := 1; hold > 0 && len(pending) > 0; round++ {
		c.progress(ctx, "waiting %s, two MirrorMaker 2 group-offset sync intervals, to check that the offsets of %d group(s) hold",
			hold, len(pending))
		if err := c.sleep(ctx, hold); err != nil {
			return nil, nil, err
		}
		var rewound []migration.GroupOffsets
		for _, g := range pending {
			if err := s.CheckGroupOffsets(ctx, g.Group, g.Targets()); err != nil {
				c.progress(ctx, "group %s: %v", g.Group, err)
				rewound = append(rewound, g)
				continue
			}
			held = append(held, g)
		}
		pending = nil
		for _, g := range rewound {
			if round == holdRounds {
				left = append(left, leftBehind{g.Group, []string{fmt.Sprintf("group %s: its exact offsets were rewound %d times "+
					"after writing (MirrorMaker 2's group-offset sync, or a client of the target); it holds what was last written there",
					g.Group, holdRounds)}})
				continue
			}
			if err := s.WriteGroupOffsets(ctx, g.Group, g.Targets()); err != nil {
				left = append(left, leftBehind{g.Group, []string{fmt.Sprintf("group %s: rewound after writing, and %v", g.Group, err)}})
				continue
			}
			c.progress(ctx, "group %s: exact offsets written again", g.Group)
			pending = append(pending, g)
		}
	}
	return append(held, pending...), left, nil
}

// awaitGates asks for the gates until they open or the deadline passes, and returns the last.
func (c *Charm) awaitGates(ctx context.Context, s Session, flow mm2.Flow, p cutoverParams, deadline time.Time) (migration.Gates, error) {
	for {
		gates, err := s.Gates(ctx, flow, p.groups)
		if err != nil {
			if c.retryable(ctx, err, deadline, "checking the groups") {
				continue
			}
			return gates, fmt.Errorf("cannot check the groups: %w", err)
		}
		if gates.Open() || !c.now().Before(deadline) {
			return gates, nil
		}
		c.progress(ctx, "waiting: %d blocker(s), first: %s; %s records behind", len(gates.Blockers), gates.Blockers[0],
			thousands(gates.View.RecordsBehind))
		if err := c.sleep(ctx, c.pollEvery); err != nil {
			return gates, err
		}
	}
}

// leftBehind is a group the phase did not move, and why: one line per reason, each naming
// the group.
type leftBehind struct {
	group string
	lines []string
}

func reasonsOf(left []leftBehind) []string {
	var out []string
	for _, l := range left {
		out = append(out, l.lines...)
	}
	return out
}

// splitExact separates the groups whose every partition was translated exactly from the
// others, with the first failure of each.
func splitExact(exact []migration.GroupOffsets) (movable []migration.GroupOffsets, left []leftBehind) {
	for _, g := range exact {
		var failures []string
		if g.Err != nil {
			failures = append(failures, fmt.Sprintf("group %s: %v", g.Group, g.Err))
		}
		for _, po := range g.Partitions {
			if po.Err != nil {
				failures = append(failures, fmt.Sprintf("group %s, partition %s/%d: %v%s", g.Group, po.Topic, po.Partition, po.Err, raiseHint(po.Err)))
			}
		}
		if len(failures) > 0 {
			left = append(left, leftBehind{g.Group, failures})
			continue
		}
		movable = append(movable, g)
	}
	return movable, left
}

// consumerResults are the action's results: every group moved with its partitions' figures,
// and every group left behind with its reason.
func consumerResults(exact []migration.GroupOffsets, left []leftBehind, dryRun bool) map[string]string {
	r := map[string]string{}
	var partitions int
	var avoided int64
	for i, g := range exact {
		k := "groups." + strconv.Itoa(i) + "."
		r[k+"name"] = g.Group
		for j, po := range g.Partitions {
			pk := k + "partitions." + strconv.Itoa(j) + "."
			r[pk+"topic"] = po.Topic
			r[pk+"partition"] = strconv.Itoa(int(po.Partition))
			r[pk+"source-committed"] = i64(po.SourceCommitted)
			r[pk+"mm2-translation"] = i64(po.Checkpoint)
			r[pk+"exact"] = i64(po.Exact)
			r[pk+"replays-avoided"] = i64(po.ReplaysAvoided)
			r[pk+"how"] = po.How
			partitions++
			avoided += max(po.ReplaysAvoided, 0)
		}
	}
	for i, l := range left {
		k := "left-behind." + strconv.Itoa(i) + "."
		r[k+"name"] = l.group
		r[k+"reason"] = strings.Join(l.lines, "; ")
	}
	r["summary.groups"] = strconv.Itoa(len(exact))
	r["summary.groups-left-behind"] = strconv.Itoa(len(left))
	r["summary.partitions"] = strconv.Itoa(partitions)
	r["summary.replays-avoided"] = i64(avoided)
	if dryRun {
		r["status"] = "dry run: exact offsets found, nothing written"
	} else {
		r["status"] = fmt.Sprintf("exact offsets written for %d group(s): start their consumers on the target", len(exact))
	}
	return r
}

// raiseHint tells how to get past a search that reached its scan limit: the exact position is
// further than the limit lets a search read (a consumer far behind, a group with no checkpoint
// from MM2), and a larger one reads further.
func raiseHint(err error) string {
	var sl *migration.ScanLimitError
	if !errors.As(err, &sl) {
		return ""
	}
	return fmt.Sprintf(" (run again with scan-limit=%d to read further)", 10*sl.Limit.Offsets)
}
