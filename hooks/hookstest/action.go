package hookstest

import (
	"regexp"
	"strings"
)

// running returns the action running on unit, or the error Juju gives
// outside an action.
func (m *Model) running(unit string) (*Action, error) {
	if m.Action == nil || !m.Action.Running || m.Action.Unit != unit {
		return nil, failf("not running an action")
	}
	return m.Action, nil
}

func actionGet(m *Model, c *call) (any, error) {
	a, err := m.running(c.unit)
	if err != nil {
		return nil, err
	}
	switch len(c.args) {
	case 0:
		if a.Params == nil {
			return map[string]any{}, nil
		}
		return a.Params, nil
	case 1:
		var v any = a.Params
		for _, k := range strings.Split(c.args[0], ".") {
			mv, ok := v.(map[string]any)
			if !ok {
				return rawOutput("null\n"), nil
			}
			v = mv[k]
		}
		if v == nil {
			return rawOutput("null\n"), nil
		}
		return v, nil
	}
	return nil, noArgs(c.args[1:])
}

// actionKeyPart is Juju's rule for each dot-separated part of a result key.
var actionKeyPart = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)

var reservedActionKeys = []string{"stdout", "stdout-encoding", "stderr", "stderr-encoding"}

// actionSet validates every argument before storing any, as Juju checks
// them all when parsing; nested keys are kept flat ("a.b").
func actionSet(m *Model, c *call) (any, error) {
	results := map[string]string{}
	for _, arg := range c.args {
		k, v, ok := strings.Cut(arg, "=")
		if !ok {
			return nil, usagef("argument %q must be of the form key...=value", arg)
		}
		for _, part := range strings.Split(k, ".") {
			if !actionKeyPart.MatchString(part) {
				return nil, usagef("key %q must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods", part)
			}
			if contains(reservedActionKeys, part) {
				return nil, usagef("cannot set reserved action key %q", part)
			}
		}
		results[k] = v
	}
	a, err := m.running(c.unit)
	if err != nil {
		return nil, err
	}
	if a.Results == nil {
		a.Results = map[string]string{}
	}
	for k, v := range results {
		a.Results[k] = v
	}
	return nil, nil
}

func actionFail(m *Model, c *call) (any, error) {
	a, err := m.running(c.unit)
	if err != nil {
		return nil, err
	}
	if len(c.args) > 1 {
		return nil, noArgs(c.args[1:])
	}
	a.Failed = true
	a.FailMessage = "action failed without reason given, check action for errors"
	if len(c.args) == 1 {
		a.FailMessage = c.args[0]
	}
	return nil, nil
}

func actionLog(m *Model, c *call) (any, error) {
	a, err := m.running(c.unit)
	if err != nil {
		return nil, err
	}
	if len(c.args) == 0 {
		return nil, usagef("no message specified")
	}
	a.Logs = append(a.Logs, strings.Join(c.args, " "))
	return nil, nil
}
