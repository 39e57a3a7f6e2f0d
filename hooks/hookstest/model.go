// Package hookstest is an in-memory model of Juju, faithful to the hook
// tools' arguments, outputs and error texts. The same Model drives the
// charm's state-transition tests in process (Model.Runner) and the sandbox's
// Juju simulator, which keeps it as JSON on disk and serves each hook tool
// call with Model.Exec.
package hookstest

import (
	"fmt"
	"sort"
	"sync"
)

// PeerEndpoint is the peer relation every Model starts with.
const PeerEndpoint = "cluster"

// Model is the state Juju keeps for one application and what it has been
// told by that application's units. Every field is exported and tagged so
// the simulator can store the Model as JSON between tool calls.
type Model struct {
	mu sync.Mutex

	App       string `json:"app"`
	ModelName string `json:"model-name"`
	ModelUUID string `json:"model-uuid"`
	// CharmDir is JUJU_CHARM_DIR for every unit; empty means Juju's per-unit
	// default /var/lib/juju/agents/unit-<app>-<n>/charm.
	CharmDir    string   `json:"charm-dir,omitempty"`
	JujuVersion string   `json:"juju-version"`
	Units       []string `json:"units"`
	Leader      string   `json:"leader"`

	Config    map[string]any     `json:"config"`
	Relations []*Relation        `json:"relations"`
	Secrets   map[string]*Secret `json:"secrets"`

	Statuses      map[string]Status `json:"statuses"`
	AppStatus     Status            `json:"app-status"`
	StatusHistory []StatusEntry     `json:"status-history"`
	Version       string            `json:"version,omitempty"`

	// Addresses is each unit's bind address, returned by network-get.
	Addresses map[string]string `json:"addresses"`
	Logs      []LogEntry        `json:"logs"`
	// Action is the action running now, or the last one run.
	Action *Action                      `json:"action,omitempty"`
	State  map[string]map[string]string `json:"state"`
	// Ports lists each unit's open ports as "N/tcp".
	Ports map[string][]string `json:"ports"`

	NextRelationID int `json:"next-relation-id"`
	NextSecret     int `json:"next-secret"`
	NextAction     int `json:"next-action"`
}

// Relation is one relation of the application. Data holds every databag,
// keyed by the application or unit name that owns it. A peer relation has
// the application itself as RemoteApp and no RemoteUnits: its members are
// the Model's Units.
type Relation struct {
	ID          int                          `json:"id"`
	Endpoint    string                       `json:"endpoint"`
	RemoteApp   string                       `json:"remote-app"`
	RemoteUnits []string                     `json:"remote-units"`
	Data        map[string]map[string]string `json:"data"`
	// Broken is set while relation-broken runs; the relation is still
	// listed then, as in Juju. Remove it after the hook.
	Broken bool `json:"broken,omitempty"`
}

// Secret is a secret the application can read, with every revision kept so
// that a unit sees the revision it last read until it refreshes.
type Secret struct {
	Label string `json:"label,omitempty"`
	// Revisions holds the content of revision i+1 at index i.
	Revisions []map[string]string `json:"revisions"`
	// Seen is the revision each unit is tracking.
	Seen map[string]int `json:"seen,omitempty"`
	// Denied makes secret-get fail with "permission denied", as for a user
	// secret not yet granted to the application.
	Denied bool `json:"denied,omitempty"`
}

// Status is a workload status; Message may be empty.
type Status struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// StatusEntry records one status-set, so tests can assert on every status
// a hook went through, not just the last.
type StatusEntry struct {
	// Who is the unit name, or the application name for --application.
	Who    string `json:"who"`
	Status Status `json:"status"`
}

// LogEntry is one juju-log call.
type LogEntry struct {
	Unit    string `json:"unit"`
	Level   string `json:"level"`
	Message string `json:"message"`
}

// Action is an action run on one unit: its params in, its results out.
type Action struct {
	Name        string            `json:"name"`
	UUID        string            `json:"uuid"`
	Unit        string            `json:"unit"`
	Params      map[string]any    `json:"params"`
	Results     map[string]string `json:"results"`
	Logs        []string          `json:"logs"`
	Running     bool              `json:"running,omitempty"`
	Failed      bool              `json:"failed,omitempty"`
	FailMessage string            `json:"fail-message,omitempty"`

	// parents caches every dotted prefix of Results' keys, so action-set
	// merges in time proportional to what it sets.
	parents map[string]bool
}

// NewModel returns a model of app with units app/0..app/n-1, app/0 leading,
// and the peer relation "cluster" in place, as after a fresh deploy.
func NewModel(app string, units int) *Model {
	m := &Model{
		App:         app,
		ModelName:   "migration",
		ModelUUID:   "8b1b5f6e-2c1d-4b8a-9d6a-3f2e1c0b9a87",
		JujuVersion: "3.6.4",
		Config:      map[string]any{},
		Secrets:     map[string]*Secret{},
		Statuses:    map[string]Status{},
		Addresses:   map[string]string{},
		State:       map[string]map[string]string{},
		Ports:       map[string][]string{},
	}
	for i := 0; i < units; i++ {
		u := fmt.Sprintf("%s/%d", app, i)
		m.Units = append(m.Units, u)
		m.Addresses[u] = fmt.Sprintf("127.0.0.%d", 11+i)
	}
	if units > 0 {
		m.Leader = m.Units[0]
	}
	m.AddRelation(PeerEndpoint, app)
	return m
}

// AddRelation relates the application on endpoint to remoteApp with the
// given units. Relation ids increase from 0, as in a Juju model.
func (m *Model) AddRelation(endpoint, remoteApp string, remoteUnits ...string) *Relation {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := &Relation{
		ID:          m.NextRelationID,
		Endpoint:    endpoint,
		RemoteApp:   remoteApp,
		RemoteUnits: append([]string{}, remoteUnits...),
		Data:        map[string]map[string]string{},
	}
	m.NextRelationID++
	m.Relations = append(m.Relations, r)
	return r
}

// RemoveRelation forgets a relation, as Juju does after relation-broken.
func (m *Model) RemoveRelation(id int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, r := range m.Relations {
		if r.ID == id {
			m.Relations = append(m.Relations[:i], m.Relations[i+1:]...)
			return
		}
	}
}

// Relation returns the relation with id, or nil.
func (m *Model) Relation(id int) *Relation {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.relation(id)
}

func (m *Model) relation(id int) *Relation {
	for _, r := range m.Relations {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// PeerRelation returns the peer relation, or nil.
func (m *Model) PeerRelation() *Relation {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.Relations {
		if r.Endpoint == PeerEndpoint {
			return r
		}
	}
	return nil
}

// RelationID is the id as hook tools and JUJU_RELATION_ID spell it.
func (r *Relation) RelationID() string { return fmt.Sprintf("%s:%d", r.Endpoint, r.ID) }

// IsPeer reports whether r is a peer relation (the app related to itself).
func (r *Relation) IsPeer(app string) bool { return r.RemoteApp == app }

// Bag returns the databag of owner (an app or unit name), creating it.
func (r *Relation) Bag(owner string) map[string]string {
	if r.Data == nil {
		r.Data = map[string]map[string]string{}
	}
	b := r.Data[owner]
	if b == nil {
		b = map[string]string{}
		r.Data[owner] = b
	}
	return b
}

// SetRemoteAppData merges data into the remote application's databag of
// relation id, as the remote leader would; an empty value deletes its key.
func (m *Model) SetRemoteAppData(id int, data map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.relation(id)
	if r == nil {
		return fmt.Errorf("cannot set remote data: relation %d not found", id)
	}
	merge(r.Bag(r.RemoteApp), data)
	return nil
}

// SetRemoteUnitData merges data into a remote unit's databag.
func (m *Model) SetRemoteUnitData(id int, unit string, data map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.relation(id)
	if r == nil {
		return fmt.Errorf("cannot set remote data: relation %d not found", id)
	}
	merge(r.Bag(unit), data)
	return nil
}

func merge(dst, src map[string]string) {
	for k, v := range src {
		if v == "" {
			delete(dst, k)
		} else {
			dst[k] = v
		}
	}
}

// StatusOf returns the current status of a unit.
func (m *Model) StatusOf(unit string) Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.Statuses[unit]
}

// StatusesOf returns every status ever set by who (a unit, or the app).
func (m *Model) StatusesOf(who string) []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Status
	for _, e := range m.StatusHistory {
		if e.Who == who {
			out = append(out, e.Status)
		}
	}
	return out
}

// StartAction makes action the running action on unit, with params as
// action-get will return them, and returns it.
func (m *Model) StartAction(unit, name string, params map[string]any) *Action {
	m.mu.Lock()
	defer m.mu.Unlock()
	if params == nil {
		params = map[string]any{}
	}
	m.NextAction++
	m.Action = &Action{
		Name:    name,
		UUID:    fmt.Sprint(m.NextAction), // Juju 3 action ids are numbers
		Unit:    unit,
		Params:  params,
		Results: map[string]string{},
		Running: true,
	}
	return m.Action
}

// FinishAction ends the running action; its results stay readable.
func (m *Model) FinishAction() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Action != nil {
		m.Action.Running = false
	}
}

func (m *Model) isUnit(unit string) bool {
	for _, u := range m.Units {
		if u == unit {
			return true
		}
	}
	return false
}

func copyMap(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
