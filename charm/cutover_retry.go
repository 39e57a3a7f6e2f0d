package charm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/migration"
	"mirrormaker-k8s/internal/mm2"
)

// A cutover runs for minutes against clusters that go on living: a partition's leader moves, a
// group's coordinator fails over, a broker restarts. What kafka.Transient calls transient is
// asked again after pollEvery, within the action's timeout; anything else fails at once.

// retryable reports whether err is transient and there is time left to ask again; if so it
// says so in the action's log and waits.
func (c *Charm) retryable(ctx context.Context, err error, deadline time.Time, what string) bool {
	if !kafka.Transient(err) || !c.now().Before(deadline) {
		return false
	}
	c.progress(ctx, "waiting: %s failed on a transient error, asking again: %v", what, err)
	return c.sleep(ctx, c.pollEvery) == nil
}

// exactOffsets translates groups, translating again the groups whose only failures are
// transient, until none is left or the deadline passes.
func (c *Charm) exactOffsets(ctx context.Context, s Session, flow mm2.Flow, groups []string, limit migration.ScanLimit, deadline time.Time) ([]migration.GroupOffsets, error) {
	var out []migration.GroupOffsets
	index := map[string]int{}
	for len(groups) > 0 {
		got, err := s.ExactOffsets(ctx, flow, groups, limit)
		if err != nil {
			if c.retryable(ctx, err, deadline, "translating offsets") {
				continue
			}
			return nil, err
		}
		groups = nil
		var first error
		for _, g := range got {
			if i, ok := index[g.Group]; ok {
				out[i] = g
			} else {
				index[g.Group] = len(out)
				out = append(out, g)
			}
			if err := onlyTransient(g); err != nil {
				groups = append(groups, g.Group)
				first = cmpOr(first, err)
			}
		}
		if len(groups) > 0 && !c.retryable(ctx, first, deadline, fmt.Sprintf("translating %d group(s)", len(groups))) {
			break
		}
	}
	return out, nil
}

// onlyTransient returns the first failure of g when every failure of g is transient, nil
// otherwise (no failure, or one that asking again will not cure).
func onlyTransient(g migration.GroupOffsets) error {
	var errs []error
	if g.Err != nil {
		errs = append(errs, g.Err)
	}
	for _, p := range g.Partitions {
		if p.Err != nil {
			errs = append(errs, p.Err)
		}
	}
	for _, err := range errs {
		if !kafka.Transient(err) {
			return nil
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}

// verify proves the copy, proving it again while the only partitions that could not be
// compared failed on transient errors.
func (c *Charm) verify(ctx context.Context, s Session, flow mm2.Flow, deadline time.Time) (migration.Verification, error) {
	for {
		ver, err := s.Verify(ctx, flow, verifySample, func(p migration.WholeProgress) {
			c.progress(ctx, "proving the copy: %s records read of %d partitions read whole (markers, repeats, compaction or log starts that differ), round %d of %d",
				thousands(p.Records), p.Partitions, p.Round, p.Rounds)
		})
		if err != nil {
			if c.retryable(ctx, err, deadline, "verifying the copy") {
				continue
			}
			return ver, err
		}
		var errs []error
		for _, pc := range ver.Partitions {
			if pc.Err != nil {
				errs = append(errs, pc.Err)
			}
		}
		if len(errs) == 0 {
			return ver, nil
		}
		for _, err := range errs {
			if !kafka.Transient(err) {
				return ver, nil
			}
		}
		if !c.retryable(ctx, errors.Join(errs...), deadline, fmt.Sprintf("verifying %d partition(s)", len(errs))) {
			return ver, nil
		}
	}
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
