package jujusim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"mirrormaker-k8s/hooks/hookstest"
)

// AddUnit adds one unit (numbers are never reused, as in Juju) and runs
// its setup hooks, then relation-created/joined/changed for each existing
// relation, then the peers meet. It returns the new unit's name.
func (s *Sim) AddUnit(ctx context.Context) (string, error) {
	s.mu.Lock()
	unit := fmt.Sprintf("%s/%d", s.state.App, s.state.NextUnit)
	addr := s.unitAddress(s.state.NextUnit)
	s.state.NextUnit++
	s.mu.Unlock()
	if err := s.saveState(); err != nil {
		return "", err
	}
	var existing []string
	var rels []*hookstest.Relation
	err := s.store.update(ctx, func(m *hookstest.Model) error {
		existing = append(existing, m.Units...)
		m.Units = append(m.Units, unit)
		m.Addresses[unit] = addr
		for _, r := range m.Relations {
			if r.Endpoint != s.charm.Peer {
				rels = append(rels, r)
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if err := s.startPod(ctx, unit); err != nil {
		return "", err
	}
	if err := s.setup(ctx, unit, false); err != nil {
		return unit, err
	}
	for _, r := range rels {
		evs := []event{{hook: r.Endpoint + "-relation-created", relID: r.ID}}
		for _, ru := range r.RemoteUnits {
			evs = append(evs, event{hook: r.Endpoint + "-relation-joined", relID: r.ID, remoteUnit: ru},
				event{hook: r.Endpoint + "-relation-changed", relID: r.ID, remoteUnit: ru})
		}
		for _, ev := range evs {
			if err := s.fire(ctx, unit, ev); err != nil {
				return unit, err
			}
		}
	}
	return unit, s.peersMeet(ctx, []string{unit}, existing)
}

// RemoveUnit removes unit: <peer>-relation-departed on every other unit;
// on the leaving unit departed for each peer, then relation-broken for its
// relations, stop and remove; then its pod is torn down. When it led, the
// lowest-numbered remaining unit is elected and gets leader-elected.
func (s *Sim) RemoveUnit(ctx context.Context, unit string) error {
	m, err := s.store.read(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(m.Units, unit) {
		return fmt.Errorf("cannot remove unit %s: not found", unit)
	}
	peer, err := s.peerID(ctx)
	if err != nil {
		return err
	}
	var others []string
	for _, u := range m.Units {
		if u != unit {
			others = append(others, u)
		}
	}
	var errs []error
	errs = append(errs, forEach(others, func(u string) error {
		return s.fire(ctx, u, event{hook: s.charm.Peer + "-relation-departed", relID: peer, remoteUnit: unit, departing: unit})
	}))
	for _, o := range others {
		errs = append(errs, s.fire(ctx, unit, event{hook: s.charm.Peer + "-relation-departed", relID: peer, remoteUnit: o, departing: unit}))
	}
	for _, r := range m.Relations {
		errs = append(errs, s.fire(ctx, unit, event{hook: r.Endpoint + "-relation-broken", relID: r.ID}))
	}
	errs = append(errs, s.fire(ctx, unit, event{hook: "stop"}), s.fire(ctx, unit, event{hook: "remove"}))

	if pod, err := s.Pod(unit); err == nil {
		errs = append(errs, pod.Stop(ctx))
	}
	s.mu.Lock()
	delete(s.pods, unit)
	delete(s.state.Errors, unit)
	s.mu.Unlock()
	errs = append(errs, s.saveState())

	newLeader := ""
	err = s.store.update(ctx, func(m *hookstest.Model) error {
		m.Units = slices.DeleteFunc(m.Units, func(u string) bool { return u == unit })
		delete(m.Statuses, unit)
		delete(m.Addresses, unit)
		if m.Leader == unit {
			m.Leader = lowestUnit(m.Units)
			newLeader = m.Leader
		}
		return nil
	})
	errs = append(errs, err)
	if newLeader != "" {
		errs = append(errs, s.fire(ctx, newLeader, event{hook: "leader-elected"}))
	}
	return errors.Join(errs...)
}

// lowestUnit is the unit with the lowest number, or "" for none.
func lowestUnit(units []string) string {
	best, bestN := "", -1
	for _, u := range units {
		_, num, _ := strings.Cut(u, "/")
		n, err := strconv.Atoi(num)
		if err == nil && (bestN < 0 || n < bestN) {
			best, bestN = u, n
		}
	}
	return best
}

// Units lists the application's units, in model order.
func (s *Sim) Units(ctx context.Context) ([]string, error) {
	m, err := s.store.read(ctx)
	if err != nil {
		return nil, err
	}
	return m.Units, nil
}

// Leader returns the current leader unit.
func (s *Sim) Leader(ctx context.Context) (string, error) {
	m, err := s.store.read(ctx)
	if err != nil {
		return "", err
	}
	return m.Leader, nil
}

// MoveLeadership makes unit the leader, as Juju does when the leader's lease
// lapses (its agent lost the controller, say): the model's leader changes at
// once and the new leader gets leader-elected. The old leader is told
// nothing: a hook or action running there goes on, and finds is-leader false
// and its application-data writes refused from then on.
func (s *Sim) MoveLeadership(ctx context.Context, unit string) error {
	unit, err := s.resolveUnit(ctx, unit)
	if err != nil {
		return err
	}
	err = s.store.update(ctx, func(m *hookstest.Model) error {
		if m.Leader == unit {
			return fmt.Errorf("cannot move leadership to %s: it leads already", unit)
		}
		m.Leader = unit
		return nil
	})
	if err != nil {
		return err
	}
	return s.fire(ctx, unit, event{hook: "leader-elected"})
}

// resolveUnit maps "leader", "<app>/leader" and unit numbers ("1") to a
// unit name, as `juju run` accepts them.
func (s *Sim) resolveUnit(ctx context.Context, unit string) (string, error) {
	m, err := s.store.read(ctx)
	if err != nil {
		return "", err
	}
	switch {
	case unit == "leader" || unit == m.App+"/leader":
		if m.Leader == "" {
			return "", fmt.Errorf("cannot find leader of %s", m.App)
		}
		return m.Leader, nil
	case !strings.Contains(unit, "/"):
		unit = m.App + "/" + unit
	}
	if !slices.Contains(m.Units, unit) {
		return "", fmt.Errorf("cannot find unit %s", unit)
	}
	return unit, nil
}
