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
// them all when parsing (ActionSetCommand.Init). Results are kept flat
// ("a.b"), but merged the way Juju nests them (addValueToMap): successive
// calls add to one map, a key replaces any value at its own path, a value in
// the way of a deeper key ("a" when "a.b" is set) becomes a map, and a value
// set at a path that held a map ("a" over "a.b") replaces the whole map.
func actionSet(m *Model, c *call) (any, error) {
	type kv struct{ k, v string }
	var results []kv
	for _, arg := range c.args {
		k, v, _ := strings.Cut(arg, "=")
		results = append(results, kv{k, v})
	}
	a, err := m.running(c.unit)
	if err != nil {
		return nil, err
	}
	if a.Results == nil {
		a.Results = map[string]string{}
	}
	if a.parents == nil { // first call, or a model read back from JSON
		a.parents = map[string]bool{}
		for k := range a.Results {
			addParents(a.parents, k)
		}
	}
	for _, r := range results {
		for i := 0; i < len(r.k); i++ {
			if r.k[i] == '.' {
				delete(a.Results, r.k[:i]) // a value in the way becomes a map
			}
		}
		addParents(a.parents, r.k)
		if a.parents[r.k] { // a map here is replaced by the value
			for old := range a.Results {
				if strings.HasPrefix(old, r.k+".") {
					delete(a.Results, old)
				}
			}
		}
		a.Results[r.k] = r.v
	}
	return nil, nil
}

// addParents marks "a" and "a.b" as parents for "a.b.c". A mark may outlive
// its children; it only costs a scan.
func addParents(parents map[string]bool, k string) {
	for i := 0; i < len(k); i++ {
		if k[i] == '.' {
			parents[k[:i]] = true
		}
	}
}

// checkActionSet is action-set's grammar: key=value arguments whose every
// dot-separated part matches Juju's key rule and is not reserved.
func checkActionSet(c *call) error {
	for _, arg := range c.args {
		k, _, ok := strings.Cut(arg, "=")
		if !ok {
			return usagef("argument %q must be of the form key...=value", arg)
		}
		for _, part := range strings.Split(k, ".") {
			if !actionKeyPart.MatchString(part) {
				return usagef("key %q must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods", part)
			}
			if contains(reservedActionKeys, part) {
				return usagef("cannot set reserved action key %q", part)
			}
		}
	}
	return nil
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
