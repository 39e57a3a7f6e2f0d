package jujusim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"time"

	"mirrormaker-k8s/hooks/hookstest"
)

// everyUnit fires events, in order, on every unit; units run concurrently.
func (s *Sim) everyUnit(ctx context.Context, events ...event) error {
	units, err := s.Units(ctx)
	if err != nil {
		return err
	}
	return forEach(units, func(u string) error {
		for _, ev := range events {
			if err := s.fire(ctx, u, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetConfig sets options (a nil or "" value resets one to its default, as
// `juju config --reset`) and fires config-changed on every unit.
func (s *Sim) SetConfig(ctx context.Context, values map[string]any) error {
	defaults := s.charm.defaults()
	err := s.store.update(ctx, func(m *hookstest.Model) error {
		for k, v := range values {
			if _, ok := s.charm.Config[k]; !ok {
				return fmt.Errorf("cannot set config: unknown option %q", k)
			}
			if v == nil || v == "" {
				delete(m.Config, k)
				if d, ok := defaults[k]; ok {
					m.Config[k] = d
				}
				continue
			}
			m.Config[k] = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.everyUnit(ctx, event{hook: "config-changed"})
}

// ConfigValues converts `juju config`-style strings to the types
// config.yaml declares, for SetConfig and Deploy.
func (s *Sim) ConfigValues(kv map[string]string) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range kv {
		if v == "" {
			out[k] = ""
			continue
		}
		val, err := s.charm.configValue(k, v)
		if err != nil {
			return nil, err
		}
		out[k] = val
	}
	return out, nil
}

// AddSecret adds a user secret granted to the application, as
// `juju add-secret` plus `juju grant-secret`, and returns its URI (for a
// secret-typed config option such as source-credentials). Content keys
// Juju refuses (`key "ca" not valid`) are refused the same way.
func (s *Sim) AddSecret(ctx context.Context, content map[string]string) (string, error) {
	var uri string
	err := s.store.update(ctx, func(m *hookstest.Model) error {
		var err error
		uri, err = m.CreateSecret(content)
		return err
	})
	return uri, err
}

// UpdateSecret adds a revision to a secret and fires secret-changed on the
// units that have read it, as Juju does for observers.
func (s *Sim) UpdateSecret(ctx context.Context, uri string, content map[string]string) error {
	var seen []string
	err := s.store.update(ctx, func(m *hookstest.Model) error {
		if err := m.UpdateSecret(uri, content); err != nil {
			return err
		}
		if sec := m.Secrets[uri]; sec != nil {
			for _, u := range m.Units {
				if _, ok := sec.Seen[u]; ok {
					seen = append(seen, u)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return forEach(seen, func(u string) error {
		return s.fire(ctx, u, event{hook: "secret-changed", secretURI: uri})
	})
}

// UpdateStatus fires update-status on every unit.
func (s *Sim) UpdateStatus(ctx context.Context) error {
	return s.everyUnit(ctx, event{hook: "update-status"})
}

// StartUpdateStatus fires update-status on every unit every interval until
// StopUpdateStatus or Close, as Juju's update-status-hook-interval does.
// Failures land in the units' hooks.log and status, as in Juju.
func (s *Sim) StartUpdateStatus(interval time.Duration) {
	s.StopUpdateStatus()
	t := tick(interval, func(ctx context.Context) { _ = s.UpdateStatus(ctx) })
	s.mu.Lock()
	s.updates = t
	s.mu.Unlock()
}

// StopUpdateStatus stops the timer StartUpdateStatus started, cancelling a
// running round and waiting for it to end.
func (s *Sim) StopUpdateStatus() {
	s.mu.Lock()
	t := s.updates
	s.updates = nil
	s.mu.Unlock()
	t.stop()
}

// ActionResult is what `juju run` shows for an action.
type ActionResult struct {
	// Results are the action-set keys, nested keys flattened with dots.
	Results map[string]string
	// Logs are the action-log lines, in order.
	Logs []string
	// Failed is set by action-fail or a non-zero exit.
	Failed bool
	// Message is action-fail's message.
	Message string
}

// Run runs action on unit ("leader" and "<app>/leader" resolve to the
// leader) with params over actions.yaml's defaults, as `juju run`. An
// action that calls action-fail returns Failed with a nil error; one that
// exits non-zero returns an error with its exit code and output tail as well.
func (s *Sim) Run(ctx context.Context, unit, action string, params map[string]any) (ActionResult, error) {
	unit, err := s.resolveUnit(ctx, unit)
	if err != nil {
		return ActionResult{}, err
	}
	defaults, ok := s.charm.Actions[action]
	if !ok {
		return ActionResult{}, fmt.Errorf("cannot run action %q: not defined in actions.yaml", action)
	}
	all := maps.Clone(defaults)
	maps.Copy(all, params)
	// Juju queues an action behind the one running on the unit. The model has
	// one action slot, so the simulator queues every action behind the one
	// running anywhere (stricter than Juju, never looser): a second `juju run`
	// waits instead of taking over the running action's parameters and results.
	lock, err := lockFile(ctx, filepath.Join(s.dir, "action.lock"))
	if err != nil {
		return ActionResult{}, fmt.Errorf("cannot run action %q: %w", action, err)
	}
	defer lock.unlock()
	err = s.store.update(ctx, func(m *hookstest.Model) error {
		m.StartAction(unit, action, all)
		return nil
	})
	if err != nil {
		return ActionResult{}, err
	}
	runErr := s.fire(ctx, unit, event{action: action})
	m, err := s.store.read(ctx)
	if err != nil {
		return ActionResult{}, err
	}
	var res ActionResult
	if a := m.Action; a != nil {
		res = ActionResult{Results: a.Results, Logs: a.Logs, Failed: a.Failed, Message: a.FailMessage}
	}
	var he *hookError
	if errors.As(runErr, &he) {
		res.Failed = true
		if res.Message == "" {
			res.Message = fmt.Sprintf("exit status %d", he.ExitCode)
		}
	}
	return res, runErr
}
