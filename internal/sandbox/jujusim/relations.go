package jujusim

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"mirrormaker-k8s/hooks/hookstest"
)

// Relate relates the application's endpoint to the remote application p,
// as `juju relate`: <endpoint>-relation-created on every unit (on a
// requirer endpoint such as "source" the leader writes its request into its
// app databag; on a provider endpoint such as "metrics-endpoint" the charm
// publishes its data), then p answers from the charm's app databag (its app
// and unit databags; a remote app that only reads answers nothing), then
// -relation-joined and -changed on every unit for each remote unit. A
// provider that was not ready answers after the next round, followed by
// another -relation-changed. It returns the relation id.
func (s *Sim) Relate(ctx context.Context, endpoint string, p Provider) (int, error) {
	var rel *hookstest.Relation
	err := s.store.update(ctx, func(m *hookstest.Model) error {
		for _, r := range m.Relations {
			if r.Endpoint == endpoint {
				return fmt.Errorf("cannot relate %s: already related to %s", endpoint, r.RemoteApp)
			}
		}
		rel = m.AddRelation(endpoint, p.App())
		return nil
	})
	if err != nil {
		return 0, err
	}
	id := rel.ID
	if err := s.everyUnit(ctx, event{hook: endpoint + "-relation-created", relID: id}); err != nil {
		return id, err
	}
	answered, err := s.answer(ctx, id, p)
	if err != nil {
		return id, err
	}
	err = s.store.update(ctx, func(m *hookstest.Model) error {
		if r := m.Relation(id); r != nil {
			r.RemoteUnits = p.Units()
		}
		return nil
	})
	if err != nil {
		return id, err
	}
	var evs []event
	for _, ru := range p.Units() {
		evs = append(evs, event{hook: endpoint + "-relation-joined", relID: id, remoteUnit: ru},
			event{hook: endpoint + "-relation-changed", relID: id, remoteUnit: ru})
	}
	if err := s.everyUnit(ctx, evs...); err != nil {
		return id, err
	}
	if answered {
		return id, nil
	}
	if answered, err = s.answer(ctx, id, p); err != nil || !answered {
		return id, err
	}
	return id, s.everyUnit(ctx, event{hook: endpoint + "-relation-changed", relID: id, remoteUnit: p.Units()[0]})
}

// answer hands the charm's app databag to p and publishes its answer in
// the remote app's and units' databags, storing secret fields as Juju
// secrets.
func (s *Sim) answer(ctx context.Context, id int, p Provider) (bool, error) {
	m, err := s.store.read(ctx)
	if err != nil {
		return false, err
	}
	r := m.Relation(id)
	if r == nil {
		return false, fmt.Errorf("cannot answer relation %d: not found", id)
	}
	ans, ok, err := p.Answer(ctx, id, r.Data[m.App])
	if err != nil || !ok {
		return false, err
	}
	err = s.store.update(ctx, func(m *hookstest.Model) error {
		data := map[string]string{}
		for k, v := range ans.Data {
			data[k] = v
		}
		for field, content := range ans.Secrets {
			uri, err := m.CreateSecret(content)
			if err != nil {
				return fmt.Errorf("cannot store the provider's %s secret: %w", field, err)
			}
			data[field] = uri
		}
		if err := m.SetRemoteAppData(id, data); err != nil {
			return err
		}
		for unit, bag := range ans.UnitData {
			if err := m.SetRemoteUnitData(id, unit, bag); err != nil {
				return err
			}
		}
		return nil
	})
	return err == nil, err
}

// RemoveRelation removes the relation on endpoint, as `juju remove-relation`:
// -relation-departed on every unit for each remote unit (which leaves
// relation-list first), then -relation-broken on every unit while
// relation-ids still lists it, then the relation is gone.
func (s *Sim) RemoveRelation(ctx context.Context, endpoint string) error {
	m, err := s.store.read(ctx)
	if err != nil {
		return err
	}
	var rel *hookstest.Relation
	for _, r := range m.Relations {
		if r.Endpoint == endpoint && r.Endpoint != s.charm.Peer {
			rel = r
		}
	}
	if rel == nil {
		return fmt.Errorf("cannot remove relation %s: not found", endpoint)
	}
	var errs []error
	for _, ru := range rel.RemoteUnits {
		err := s.store.update(ctx, func(m *hookstest.Model) error {
			if r := m.Relation(rel.ID); r != nil {
				r.RemoteUnits = deleteString(r.RemoteUnits, ru)
			}
			return nil
		})
		if err != nil {
			return err
		}
		errs = append(errs, s.everyUnit(ctx, event{hook: endpoint + "-relation-departed", relID: rel.ID, remoteUnit: ru, departing: ru}))
	}
	err = s.store.update(ctx, func(m *hookstest.Model) error {
		if r := m.Relation(rel.ID); r != nil {
			r.Broken = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Peer databag changes made in relation-broken fire <peer>-relation-changed
	// only once the relation is gone: while it is marked broken, another
	// unit's hook would list it and be denied its remote data, a state Juju
	// never shows (a unit forgets the relation once its relation-broken ran).
	units, err := s.Units(ctx)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	before := map[string]*hookstest.Model{}
	errs = append(errs, forEach(units, func(u string) error {
		m, err := s.runHook(ctx, u, event{hook: endpoint + "-relation-broken", relID: rel.ID})
		if err == nil {
			mu.Lock()
			before[u] = m
			mu.Unlock()
		}
		return err
	}))
	errs = append(errs, s.store.update(ctx, func(m *hookstest.Model) error {
		m.RemoveRelation(rel.ID)
		return nil
	}))
	errs = append(errs, forEach(units, func(u string) error {
		if before[u] == nil {
			return nil
		}
		return s.propagate(ctx, u, before[u], 0)
	}))
	return errors.Join(errs...)
}

func deleteString(list []string, s string) []string {
	out := []string{}
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}
