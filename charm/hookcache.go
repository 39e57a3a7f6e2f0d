package charm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"

	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/workload"
)

// CacheFile is where a unit keeps, in its charm directory and readable by the charm only
// (0600), what its hooks read of the model, so that update-status need not read it again. It
// holds no password: passwords live in no file but the workload's secrets file, so the cache
// keeps where each was read (passwordSource) and update-status reads it again there, one call
// a side, without --refresh (the revision the unit tracks, which a fresh read would give too).
//
// Why that is correct: Juju announces every change to what the charm reads with an event of its
// own, and update-status is the one event that announces nothing.
//   - config changes only with config-changed;
//   - relations come and go with -relation-created and -relation-broken, their units with
//     -joined and -departed, and a remote application's or unit's data changes with
//     -relation-changed (a unit is not told of its own writes: see below);
//   - a secret's content, as this unit reads it, changes only when the unit asks for the latest
//     revision with secret-get --refresh, which the charm does only in secret-changed, the event
//     Juju delivers to a secret's observers when its owner adds a revision. Without --refresh
//     Juju hands back the revision the unit tracks, so even a fresh read could not differ;
//   - the unit's address changes only with its pod, and a new pod starts with a new charm
//     directory (the cache is gone) and runs upgrade-charm, config-changed and start;
//   - leadership can move with no event on the unit that lost it, so is-leader is asked in every
//     hook, and a cache written under the other answer is not used.
//
// So every event but update-status reads the whole model again (the file is removed when the
// dispatch begins, so a hook that fails, or that `juju resolved --no-retry` skips, leaves no
// cache behind) and writes the cache when it succeeds; actions only remove it, since they change
// what the leader wrote (the leader is not told of its own writes). update-status uses the
// cache when it holds this unit's reads under the same leadership, and otherwise reads the
// model and writes the cache itself.
//
// What the charm wrote itself (its unit's peer data, the leader's own unit state) is kept too:
// Juju commits a hook's writes when the hook succeeds, which is when the cache is written.
const CacheFile = ".mm2-hook-cache"

// cacheFormat changes whenever record's encoding does: a record of another format is not read.
// upgrade-charm rewrites the cache anyway; the check covers a downgrade.
const cacheFormat = 1

// record is the cache's content: one dispatch's reads, by the unit, under one leadership.
type record struct {
	Format int    `json:"format"`
	Unit   string `json:"unit"`
	Leader bool   `json:"leader"`

	// Config is config-get's answer, parsed again when read (parseConfig is a pure function).
	Config map[string]any `json:"config"`
	Peers  peersRecord    `json:"peers"`
	Source accessRecord   `json:"source"`
	Target accessRecord   `json:"target"`

	// Read only when a hook needed them; nil when none did yet.
	Address      *string           `json:"address,omitempty"`
	KafkaVersion *string           `json:"kafka-version,omitempty"`
	Published    *string           `json:"published,omitempty"`  // this unit's keyUnitMM2, as read or written
	Memo         syncMemo          `json:"memo,omitempty"`       // the leader's own unit state
	PeerUnits    map[string]string `json:"peer-units,omitempty"` // other units' keyUnitMM2

	// Files are the workload's stamps (workload.Stamp). They vouch for themselves, so unlike the
	// rest they are kept when a dispatch drops the cache.
	Files map[string]workload.Stamp `json:"files,omitempty"`
}

type peersRecord struct {
	ID     string            `json:"id"`
	App    map[string]string `json:"app"`
	Others []string          `json:"others"`
}

type accessRecord struct {
	Cluster  *mm2.Cluster   `json:"cluster,omitempty"` // without its password
	Password passwordSource `json:"password-from"`
	Kind     string         `json:"kind,omitempty"`
	Message  string         `json:"message,omitempty"`
	Warning  string         `json:"warning,omitempty"`
}

func recordAccess(a access) accessRecord {
	r := accessRecord{Password: a.password, Kind: a.status.kind, Message: a.status.message, Warning: a.warning}
	if a.cluster != nil {
		cluster := *a.cluster
		cluster.Password = ""
		r.Cluster = &cluster
	}
	return r
}

// access is the recorded access with its password still to be read (readPassword); a copy, so
// that the password never reaches the record.
func (r accessRecord) access() access {
	a := access{status: status{r.Kind, r.Message}, warning: r.Warning, password: r.Password}
	if r.Cluster != nil {
		cluster := *r.Cluster
		a.cluster = &cluster
	}
	return a
}

// newRecord is what a dispatch that read the model keeps of v, with raw config-get's answer.
func newRecord(unit string, v view, raw map[string]any) *record {
	return &record{
		Format: cacheFormat, Unit: unit, Leader: v.leader, Config: raw,
		Peers:  peersRecord{ID: v.peers.id, App: maps.Clone(v.peers.app), Others: v.peers.others},
		Source: recordAccess(v.source), Target: recordAccess(v.target),
	}
}

// view rebuilds the view the recording dispatch had, as observe would have made it.
func (r *record) view() view {
	v := view{leader: r.Leader}
	var err error
	if v.cfg, err = parseConfig(r.Config); err != nil {
		errors.As(err, &v.cfgErr)
	}
	v.peers = peers{id: r.Peers.ID, app: maps.Clone(r.Peers.App), others: r.Peers.Others, units: 1 + len(r.Peers.Others)}
	if v.cfgErr == nil {
		v.cfgErr = v.peers.flowChange(v.cfg)
	}
	v.source, v.target = r.Source.access(), r.Target.access()
	return v
}

// hookCache is the cache as one dispatch uses it.
type hookCache struct {
	path  string
	rec   *record                   // this dispatch's record, once observe made or loaded it
	hit   bool                      // rec came from the file
	dirty bool                      // rec learned something since it was loaded
	files map[string]workload.Stamp // the stamps the file held, whatever else it held
}

// load reads the file; a missing, unreadable or foreign one is no cache.
func (h *hookCache) load(unit string) *record {
	if h.path == "" {
		return nil
	}
	data, err := os.ReadFile(h.path)
	if err != nil {
		return nil
	}
	var r record
	if json.Unmarshal(data, &r) != nil || r.Format != cacheFormat || r.Unit != unit {
		return nil
	}
	h.files = r.Files
	return &r
}

// drop removes the file. Failing to is an error: a cache this dispatch cannot remove would
// outlive the change it announces.
func (h *hookCache) drop() error {
	if h.path == "" {
		return nil
	}
	if err := os.Remove(h.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot drop the hook cache: %w", err)
	}
	return nil
}

// save writes rec atomically, 0600 from the start. A cache that cannot be written costs the
// next update-status its reads, so failing is not an error.
func (h *hookCache) save() {
	if h.path == "" || h.rec == nil || (h.hit && !h.dirty) {
		return
	}
	h.rec.Files = h.files
	data, err := json.Marshal(h.rec)
	if err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(h.path), CacheFile+".*") // CreateTemp makes it 0600
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	if errors.Join(werr, tmp.Chmod(0o600), tmp.Close()) != nil || os.Rename(tmp.Name(), h.path) != nil {
		_ = os.Remove(tmp.Name())
	}
}

// keepStamps keeps the stamps Apply returned for the next dispatch's Apply.
func (h *hookCache) keepStamps(stamps map[string]workload.Stamp) {
	if !maps.EqualFunc(h.files, stamps, workload.Stamp.Equal) {
		h.files = stamps
		h.learned()
	}
}

// learned marks rec as changed since it was loaded, so save writes it.
func (h *hookCache) learned() { h.dirty = true }
