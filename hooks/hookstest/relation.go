package hookstest

import (
	"sort"
	"strings"
)

// relationArg finds the relation named by -r ("endpoint:N" or "N"). Hooks
// run by the model have no implicit relation, so -r is required.
func (m *Model) relationArg(c *call) (*Relation, error) {
	ref, ok := c.flags["relation"]
	if !ok {
		return nil, usagef("no relation id specified")
	}
	id, err := relationNumber(ref)
	if err != nil {
		return nil, err
	}
	// Juju reads only the number; the model also holds the endpoint named to its relation.
	endpoint, _, hasEndpoint := strings.Cut(ref, ":")
	r := m.relation(id)
	if r == nil || (hasEndpoint && r.Endpoint != endpoint) {
		return nil, usagef("invalid value %q for option -r: relation not found", ref)
	}
	return r, nil
}

// members are the units on the other side of r as unit sees it: the remote
// units, or for a peer relation the application's other units.
func (m *Model) members(r *Relation, unit string) []string {
	if r.Broken {
		return []string{}
	}
	if r.IsPeer(m.App) {
		out := []string{}
		for _, u := range m.Units {
			if u != unit {
				out = append(out, u)
			}
		}
		return out
	}
	return sortedUnique(r.RemoteUnits)
}

func relationIDs(m *Model, c *call) (any, error) {
	if len(c.args) == 0 {
		return nil, usagef("no endpoint name specified")
	}
	if err := noArgs(c.args[1:]); err != nil {
		return nil, err
	}
	var rels []*Relation
	for _, r := range m.Relations {
		if r.Endpoint == c.args[0] {
			rels = append(rels, r)
		}
	}
	sort.Slice(rels, func(i, j int) bool { return rels[i].ID < rels[j].ID })
	out := []string{}
	for _, r := range rels {
		out = append(out, r.RelationID())
	}
	return out, nil
}

func relationList(m *Model, c *call) (any, error) {
	if err := noArgs(c.args); err != nil {
		return nil, err
	}
	r, err := m.relationArg(c)
	if err != nil {
		return nil, err
	}
	if c.has("app") {
		return r.RemoteApp, nil
	}
	return m.members(r, c.unit), nil
}

func appOf(unit string) string {
	app, _, _ := strings.Cut(unit, "/")
	return app
}

// relationGet reads one databag. Juju lets a unit read its own unit bag,
// the bags of the units on the other side, the remote app bag, and its own
// app bag only on a peer relation or as the leader.
func relationGet(m *Model, c *call) (any, error) {
	r, err := m.relationArg(c)
	if err != nil {
		return nil, err
	}
	key, member := "-", ""
	switch len(c.args) {
	case 0:
	case 1:
		key = c.args[0]
	case 2:
		key, member = c.args[0], c.args[1]
	default:
		return nil, noArgs(c.args[2:])
	}
	if member == "" {
		return nil, usagef("no unit or application specified")
	}
	app, peer := c.has("app"), r.IsPeer(m.App)
	owner := member
	if app {
		owner = appOf(member)
	}
	switch {
	case app && owner == m.App:
		if !peer && m.Leader != c.unit {
			return nil, failf("permission denied")
		}
	case app && owner == r.RemoteApp:
	case app:
		return nil, failf("permission denied")
	case m.isUnit(owner), contains(r.RemoteUnits, owner), r.Data[owner] != nil:
	default:
		return nil, failf("cannot read settings for unit %q in relation %q: settings not found", member, r.RelationID())
	}
	if r.Broken && !peer && appOf(owner) == r.RemoteApp {
		return nil, failf("permission denied")
	}
	bag := copyMap(r.Data[owner])
	if key != "-" {
		return bag[key], nil
	}
	return bag, nil
}

// relationSet merges --file content, then key=value args, into the unit's
// own bag or (leader only) its application's bag.
func relationSet(m *Model, c *call) (any, error) {
	r, err := m.relationArg(c)
	if err != nil {
		return nil, err
	}
	settings, err := settingsArgs(c)
	if err != nil {
		return nil, err
	}
	owner := c.unit
	if c.has("app") {
		if m.Leader != c.unit {
			return nil, failf("cannot write relation settings")
		}
		owner = m.App
	}
	merge(r.Bag(owner), settings)
	return nil, nil
}

func networkGet(m *Model, c *call) (any, error) {
	if len(c.args) == 0 {
		return nil, usagef("no arguments specified")
	}
	if err := noArgs(c.args[1:]); err != nil {
		return nil, err
	}
	if _, ok := c.flags["relation"]; ok {
		if _, err := m.relationArg(c); err != nil {
			return nil, err
		}
	}
	addr := m.Addresses[c.unit]
	if addr == "" {
		return nil, failf("no network config found for binding %q", c.args[0])
	}
	subnet := addr + "/32"
	var asked []string
	for _, f := range []string{"bind-address", "ingress-address", "egress-subnets", "primary-address"} {
		if c.has(f) {
			asked = append(asked, f)
		}
	}
	values := map[string]any{
		"bind-address":    addr,
		"ingress-address": addr,
		"primary-address": addr,
		"egress-subnets":  []string{subnet},
	}
	if len(asked) == 1 {
		return values[asked[0]], nil
	}
	full := map[string]any{
		"bind-addresses": []map[string]any{{
			"mac-address": "", "interface-name": "eth0", "macaddress": "", "interfacename": "eth0",
			"addresses": []map[string]string{{"hostname": "", "value": addr, "cidr": subnet, "address": addr}},
		}},
		"egress-subnets":    []string{subnet},
		"ingress-addresses": []string{addr},
	}
	if len(asked) == 0 {
		return full, nil
	}
	out := map[string]any{}
	for _, f := range asked {
		out[f] = values[f]
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
