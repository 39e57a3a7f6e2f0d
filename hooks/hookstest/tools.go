package hookstest

import (
	"regexp"
	"strings"
)

func configGet(m *Model, c *call) (any, error) {
	switch len(c.args) {
	case 0:
		out := map[string]any{}
		for k, v := range m.Config {
			if v != nil || c.has("all") || c.has("a") {
				out[k] = v
			}
		}
		return out, nil
	case 1:
		if v, ok := m.Config[c.args[0]]; ok && v != nil {
			return v, nil
		}
		return rawOutput("null\n"), nil
	}
	return nil, noArgs(c.args[1:])
}

func isLeader(m *Model, c *call) (any, error) {
	if err := noArgs(c.args); err != nil {
		return nil, err
	}
	return m.Leader == c.unit, nil
}

var settableStatuses = []string{"maintenance", "blocked", "waiting", "active"}

func statusSet(m *Model, c *call) (any, error) {
	if len(c.args) == 0 {
		return nil, usagef("invalid args, require <status> [message] [data]")
	}
	st := Status{Name: c.args[0]}
	if !contains(settableStatuses, st.Name) {
		return nil, usagef("invalid status %q, expected one of [%s]", st.Name, strings.Join(settableStatuses, " "))
	}
	if len(c.args) > 1 {
		st.Message = c.args[1]
	}
	if len(c.args) > 2 {
		return nil, noArgs(c.args[2:])
	}
	who := c.unit
	if c.has("application") {
		if m.Leader != c.unit {
			return nil, failf("this unit is not the leader")
		}
		who = m.App
		m.AppStatus = st
	} else {
		if m.Statuses == nil {
			m.Statuses = map[string]Status{}
		}
		m.Statuses[c.unit] = st
	}
	m.StatusHistory = append(m.StatusHistory, StatusEntry{Who: who, Status: st})
	return nil, nil
}

func statusGet(m *Model, c *call) (any, error) {
	if err := noArgs(c.args); err != nil {
		return nil, err
	}
	if !c.has("application") {
		st := m.Statuses[c.unit]
		return map[string]any{"status": st.Name, "message": st.Message, "status-data": map[string]any{}}, nil
	}
	if m.Leader != c.unit {
		return nil, failf("finding application status: this unit is not the leader")
	}
	units := map[string]any{}
	for _, u := range m.Units {
		units[u] = map[string]any{"status": m.Statuses[u].Name, "message": m.Statuses[u].Message, "status-data": map[string]any{}}
	}
	return map[string]any{"application-status": map[string]any{
		"status": m.AppStatus.Name, "message": m.AppStatus.Message, "status-data": map[string]any{}, "units": units,
	}}, nil
}

func applicationVersionSet(m *Model, c *call) (any, error) {
	if len(c.args) != 1 {
		return nil, usagef("no version specified")
	}
	m.Version = c.args[0]
	return nil, nil
}

func jujuLog(m *Model, c *call) (any, error) {
	if len(c.args) == 0 {
		return nil, usagef("no message specified")
	}
	level := strings.ToUpper(c.flags["log-level"])
	if level == "" {
		level = "INFO"
		if c.has("debug") {
			level = "DEBUG"
		}
	}
	m.Logs = append(m.Logs, LogEntry{Unit: c.unit, Level: level, Message: strings.Join(c.args, " ")})
	return nil, nil
}

// portRule is what open-port accepts: N, N/proto, N-M/proto or icmp.
var portRule = regexp.MustCompile(`^(icmp|[0-9]+(-[0-9]+)?(/(tcp|udp))?)$`)

func portArg(c *call) (string, error) {
	if len(c.args) != 1 {
		return "", usagef("invalid arguments, expected <port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp")
	}
	p := strings.ToLower(c.args[0])
	if !portRule.MatchString(p) {
		return "", usagef("invalid port or range %q", c.args[0])
	}
	if p != "icmp" && !strings.Contains(p, "/") {
		p += "/tcp"
	}
	return p, nil
}

func openPort(m *Model, c *call) (any, error) {
	p, err := portArg(c)
	if err != nil {
		return nil, err
	}
	if m.Ports == nil {
		m.Ports = map[string][]string{}
	}
	if !contains(m.Ports[c.unit], p) {
		m.Ports[c.unit] = sortedUnique(append(m.Ports[c.unit], p))
	}
	return nil, nil
}

func closePort(m *Model, c *call) (any, error) {
	p, err := portArg(c)
	if err != nil {
		return nil, err
	}
	var keep []string
	for _, q := range m.Ports[c.unit] {
		if q != p {
			keep = append(keep, q)
		}
	}
	m.Ports[c.unit] = keep
	return nil, nil
}

func openedPorts(m *Model, c *call) (any, error) {
	if err := noArgs(c.args); err != nil {
		return nil, err
	}
	return append([]string{}, m.Ports[c.unit]...), nil
}

// stateGet prints null, not {}, when the unit has no state: a Juju quirk
// (juju/juju#22523) that callers must cope with.
func stateGet(m *Model, c *call) (any, error) {
	st := m.State[c.unit]
	switch len(c.args) {
	case 0:
		if len(st) == 0 {
			return rawOutput("null\n"), nil
		}
		return copyMap(st), nil
	case 1:
		v, ok := st[c.args[0]]
		if !ok && c.has("strict") {
			return nil, failf("%q not found", c.args[0])
		}
		return v, nil
	}
	return nil, noArgs(c.args[1:])
}

// Juju's fixed quota on each entry of a unit's state (core/quota:
// MaxCharmStateKeySize, MaxCharmStateValueSize), checked by state-set.
const (
	maxStateKeySize   = 256
	maxStateValueSize = 64 * 1024
)

func stateSet(m *Model, c *call) (any, error) {
	settings, err := settingsArgs(c)
	if err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(settings) {
		switch {
		case len(k) > maxStateKeySize:
			return nil, failf("max allowed key length (%d) exceeded", maxStateKeySize)
		case len(settings[k]) > maxStateValueSize:
			return nil, failf("max allowed value length (%d) exceeded", maxStateValueSize)
		}
	}
	if m.State == nil {
		m.State = map[string]map[string]string{}
	}
	if m.State[c.unit] == nil {
		m.State[c.unit] = map[string]string{}
	}
	merge(m.State[c.unit], settings)
	return nil, nil
}

func stateDelete(m *Model, c *call) (any, error) {
	if len(c.args) != 1 {
		return nil, usagef("invalid args, require <key>")
	}
	delete(m.State[c.unit], c.args[0])
	return nil, nil
}
