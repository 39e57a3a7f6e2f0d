package charm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"mirrormaker-k8s/hooks"
	"mirrormaker-k8s/hooks/hookstest"
	"mirrormaker-k8s/internal/migration"
	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/workload"
)

const app = "mirrormaker-k8s"

// fakeWorkload keeps a unit's container state the way Pebble would, so a test sees exactly
// which files a dispatch pushed and whether MM2 was started, restarted or stopped.
type fakeWorkload struct {
	notReady bool
	broken   bool // MM2 keeps failing: Pebble holds it in backoff whatever is applied
	version  string
	files    map[string]workload.File
	service  *workload.Service
	running  bool // the layer's startup intent
	state    workload.ServiceState
	starts   int // starts and restarts
	stops    int
	applied  []workload.Result
	// The exporter's part: its service, its program and the log targets, as last applied.
	companion  *workload.Companion
	executable string
	logTargets []workload.LogTarget
	// versionReads counts KafkaVersion calls in the current dispatch: a listing of
	// /opt/kafka/libs each, which no dispatch needs twice.
	versionReads int
}

func newFakeWorkload() *fakeWorkload {
	return &fakeWorkload{version: "3.9.1", files: map[string]workload.File{}, state: workload.StateInactive}
}

func (f *fakeWorkload) Ready() error {
	if f.notReady {
		return errors.New("cannot connect to Pebble")
	}
	return nil
}

func (f *fakeWorkload) Apply(d workload.Desired) (workload.Result, error) {
	var r workload.Result
	if f.broken && f.state == workload.StateActive {
		f.state = workload.StateBackoff // it crashed since the last hook
	}
	restartFor := 0 // pushed files MM2 reads
	for _, file := range d.Files {
		cur, ok := f.files[file.Path]
		if !ok || !bytes.Equal(cur.Content, file.Content) || cur.Perm != file.Perm || cur.User != file.User {
			f.files[file.Path] = file
			r.Pushed = append(r.Pushed, file.Path)
			if !file.Quiet {
				restartFor++
			}
		}
	}
	if d.Companion != nil {
		c := *d.Companion
		f.companion = &c
	}
	if d.Executable != nil {
		f.executable = d.Executable.Path
	}
	if d.LogTargets != nil {
		f.logTargets = d.LogTargets
	}
	if f.service == nil || !reflect.DeepEqual(*f.service, d.Service) || f.running != d.Running {
		s := d.Service
		f.service, f.running, r.LayerChanged = &s, d.Running, true
	}
	switch {
	case d.Running && f.state != workload.StateActive:
		f.state, r.Started = workload.StateActive, true
		f.starts++
	case d.Running && (r.LayerChanged || restartFor > 0):
		r.Restarted = true
		f.starts++
	case !d.Running && f.state == workload.StateActive:
		f.state, r.Stopped = workload.StateInactive, true
		f.stops++
	}
	r.State = f.state
	f.applied = append(f.applied, r)
	if f.broken && d.Running {
		// As real Pebble: the start change fails ("exited quickly") and the service backs off.
		f.state = workload.StateBackoff
		if r.Started || r.Restarted {
			return r, &workload.ChangeError{Action: "start", ID: "1", Err: "exited quickly with code 1, will restart"}
		}
	}
	return r, nil
}

func (f *fakeWorkload) Stop() (bool, error) {
	if f.state != workload.StateActive {
		return false, nil
	}
	f.state = workload.StateInactive
	f.stops++
	return true, nil
}

func (f *fakeWorkload) ServiceState() (workload.ServiceState, error) { return f.state, nil }
func (f *fakeWorkload) KafkaVersion() (string, error) {
	f.versionReads++
	return f.version, nil
}

// fakeKafka answers measurements with a prepared view, or an error.
type fakeKafka struct {
	view      migration.SyncView
	err       error
	calls     int
	plan      migration.Plan
	preflight migration.PreflightOptions // what the last preflight was asked
	session   *fakeSession
	// budget is how long the last measurement was given: its context's deadline from when it
	// was asked, or 0 for none.
	budget time.Duration
}

func (f *fakeKafka) Preflight(_ context.Context, _, _ mm2.Cluster, opts migration.PreflightOptions) (migration.Plan, error) {
	f.preflight = opts
	return f.plan, nil
}

func (f *fakeKafka) Measure(ctx context.Context, _, _ mm2.Cluster, _ mm2.Flow) (migration.SyncView, error) {
	f.calls++
	f.budget = 0
	if d, ok := ctx.Deadline(); ok {
		f.budget = time.Until(d)
	}
	return f.view, f.err
}

// recordingRunner serves hook tools from the in-memory model, through its Runner so argv meets
// the kernel's limits as in a real hook, and keeps every invocation, so tests can prove no
// secret ever reached a command line and every call is one Juju accepts.
type recordingRunner struct {
	m     *hookstest.Model
	unit  string
	argv  *[]string
	calls *[]invocation
	fail  string // a tool that fails, as a controller refusing it would
	seq   int    // which dispatch of the harness this runner serves
	seqs  *[]int // beside calls: the dispatch each was made in
}

// invocation is one hook tool call a dispatch made, and how it failed if it did.
type invocation struct {
	unit, tool string
	args       []string
	err        error
}

func (r recordingRunner) Run(ctx context.Context, tool string, args []string, stdin []byte) ([]byte, error) {
	*r.argv = append(*r.argv, tool+" "+strings.Join(args, " "))
	if tool == r.fail {
		err := errors.New(tool + " failed")
		*r.calls = append(*r.calls, invocation{unit: r.unit, tool: tool, args: append([]string(nil), args...), err: err})
		*r.seqs = append(*r.seqs, r.seq)
		return nil, err
	}
	out, err := r.m.Runner(r.unit).Run(ctx, tool, args, stdin)
	*r.calls = append(*r.calls, invocation{unit: r.unit, tool: tool, args: append([]string(nil), args...), err: err})
	*r.seqs = append(*r.seqs, r.seq)
	return out, err
}

// harness is one application in an in-memory model, with a fake container per unit.
type harness struct {
	t         *testing.T
	m         *hookstest.Model
	workloads map[string]*fakeWorkload
	charmDirs map[string]string // each unit's charm directory, where its hook cache lives
	failTool  string            // a hook tool that fails, "" for none
	seq       int               // dispatches so far
	seqs      []int             // beside calls: the dispatch each was made in
	kafka     *fakeKafka
	now       time.Time
	argv      []string
	calls     []invocation
}

func newHarness(t *testing.T, units int) *harness {
	t.Helper()
	h := &harness{t: t, m: hookstest.NewModel(app, units), workloads: map[string]*fakeWorkload{}, charmDirs: map[string]string{},
		kafka: &fakeKafka{view: startingView(), plan: cleanPlan()}, now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	h.m.Config = configDefaults(t)
	for _, u := range h.m.Units {
		h.workloads[u] = newFakeWorkload()
		h.charmDirs[u] = t.TempDir()
	}
	return h
}

// configDefaults reads config.yaml, so the tests exercise the defaults users get.
func configDefaults(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../config.yaml")
	require.NoError(t, err)
	var doc struct {
		Options map[string]struct {
			Default any `yaml:"default"`
		} `yaml:"options"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	out := map[string]any{}
	for name, o := range doc.Options {
		switch v := o.Default.(type) {
		case int:
			out[name] = float64(v) // as JSON from config-get
		default:
			out[name] = v
		}
	}
	return out
}

func (h *harness) unit(n int) string { return fmt.Sprintf("%s/%d", app, n) }

// dispatch runs one event on one unit, like Juju running the charm binary with env.
func (h *harness) dispatch(unit string, env map[string]string) error {
	hc, err := hooks.NewContext(func(k string) string { return env[k] })
	require.NoError(h.t, err)
	h.seq++
	runner := recordingRunner{m: h.m, unit: unit, argv: &h.argv, calls: &h.calls, fail: h.failTool, seq: h.seq, seqs: &h.seqs}
	c := New(hc, hooks.NewTools(runner), h.workloads[unit], h.kafka)
	c.cache.path = ""
	if dir := h.charmDirs[unit]; dir != "" {
		c.cache.path = filepath.Join(dir, CacheFile)
	}
	c.now = func() time.Time { return h.now }
	c.binary = func() (exporterBinary, bool) { return exporterBinary{path: "/charm/dispatch", id: "build1"}, true }
	c.sleep = func(_ context.Context, d time.Duration) error { h.now = h.now.Add(d); return nil }
	w := h.workloads[unit]
	w.versionReads = 0
	err = c.Run(context.Background())
	if w.versionReads > 1 {
		h.t.Errorf("%s listed the Kafka version %d times in one dispatch", unit, w.versionReads)
	}
	return err
}

// hook fires a hook on unit; rel and remote are set for relation events.
func (h *harness) hook(unit, name string, rel *hookstest.Relation, remote string) {
	h.t.Helper()
	require.NoError(h.t, h.dispatch(unit, h.m.Env(unit, name, rel, remote)), "hook %s on %s", name, unit)
}

// everywhere fires a hook on every unit.
func (h *harness) everywhere(name string, rel *hookstest.Relation) {
	h.t.Helper()
	for _, u := range h.m.Units {
		h.hook(u, name, rel, "")
	}
}

// action runs an action on unit and returns its outcome.
func (h *harness) action(unit, name string, params map[string]any) *hookstest.Action {
	h.t.Helper()
	a := h.m.StartAction(unit, name, params)
	require.NoError(h.t, h.dispatch(unit, h.m.ActionEnv(unit, name)))
	h.m.FinishAction()
	return a
}

// relate adds a kafka_client relation and plays Juju's events for it, with the provider
// answering from its own app databag as Charmed Kafka does.
func (h *harness) relate(endpoint, remoteApp string, answer map[string]string) *hookstest.Relation {
	h.t.Helper()
	rel := h.m.AddRelation(endpoint, remoteApp, remoteApp+"/0")
	h.everywhere(endpoint+"-relation-created", rel)
	if answer != nil {
		require.NoError(h.t, h.m.SetRemoteAppData(rel.ID, answer))
	}
	for _, u := range h.m.Units {
		h.hook(u, endpoint+"-relation-joined", rel, remoteApp+"/0")
		h.hook(u, endpoint+"-relation-changed", rel, remoteApp+"/0")
	}
	return rel
}

// providerAnswer is what Charmed Kafka writes for a user whose credentials live in a secret.
func (h *harness) providerAnswer(endpoints, password string) map[string]string {
	uri := h.m.AddSecret(map[string]string{"username": "relation-9", "password": password})
	return map[string]string{"endpoints": endpoints, "secret-user": uri, "tls": "disabled", "topic": "__mirrormaker-user"}
}

// peerChanged tells the other units that the leader wrote the peer databag.
func (h *harness) peerChanged() {
	h.t.Helper()
	peer := h.m.PeerRelation()
	for _, u := range h.m.Units {
		if u != h.m.Leader {
			h.hook(u, "cluster-relation-changed", peer, h.m.Leader)
		}
	}
}

// ready relates both clusters with working credentials.
func (h *harness) ready() (source, target *hookstest.Relation) {
	h.t.Helper()
	source = h.relate("source", "kafka-old", h.providerAnswer("old-0:9092,old-1:9092", "src-Pa55word"))
	target = h.relate("target", "kafka-k8s", h.providerAnswer("kafka-k8s-0.kafka-k8s-endpoints:9092", "tgt-Pa55word"))
	return source, target
}

func (h *harness) status(unit string) hookstest.Status { return h.m.StatusOf(unit) }

func (h *harness) peerData() map[string]string {
	return maps.Clone(h.m.PeerRelation().Bag(app))
}

// startingView is a migration MM2 has not begun: 2 topics of 6 partitions, 5,000 records to
// copy, one group with commits on the source.
func startingView() migration.SyncView {
	v := migration.SyncView{RecordsBehind: 5000, GroupsCounted: 1}
	for _, topic := range []string{"orders", "payments"} {
		v.Topics = append(v.Topics, migration.TopicLag{Topic: topic, TargetTopic: topic, Partitions: 6, Lag: 2500})
		for p := range int32(6) {
			v.Partitions = append(v.Partitions, migration.PartitionLag{Topic: topic, Partition: p, Committed: -1})
		}
	}
	v.Groups = []migration.GroupView{{Group: "billing", SourceState: "Empty", TargetState: "Dead", Counted: true}}
	return v
}

// lagView is the same migration, under way with behind records left and synced of its groups.
func lagView(behind int64, synced int) migration.SyncView {
	v := startingView()
	v.MirrorStarted = true
	v.RecordsBehind = behind
	v.GroupsSynced = synced
	for i := range v.Partitions {
		v.Partitions[i].Committed = 100
		if behind == 0 {
			v.PartitionsCaughtUp++
		}
	}
	return v
}

// cleanPlan is a preflight that found nothing wrong.
func cleanPlan() migration.Plan {
	return migration.Plan{
		Topics: []migration.PlannedTopic{
			{Source: "orders", Target: "orders", Partitions: 6, Bytes: 1 << 20},
			{Source: "payments", Target: "payments", Partitions: 6, Bytes: 2 << 20},
		},
		Partitions: 12, Bytes: 3 << 20, Groups: []string{"billing"},
	}
}
