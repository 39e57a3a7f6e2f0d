package workload

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"gopkg.in/yaml.v3"
)

// fakePebble is a hand-written, in-memory Pebble: files, one combined layer
// (services, checks and log targets, combined as Pebble does), MM2's service
// and any other service of the plan (the companion), each behaving like
// Pebble's (start/restart/stop move its status and current-since; a start
// runs the plan's config).
type fakePebble struct {
	t     *testing.T
	now   time.Time
	files map[string]*fakeFile
	plan  layer

	state   client.ServiceStatus // "" until the service is first started
	since   time.Time
	running *layerService // config the process was started with

	starts  int                  // processes started
	procs   map[string]*fakeProc // services other than MM2, by name
	calls   []string             // mutating calls, in order
	reads   []string             // plan and services requests, in order
	pulls   []string             // files read back whole, in order
	lists   []string             // paths listed, in order
	nextID  int
	changes map[string]*client.Change

	errs      map[string]error  // method name -> error to return
	changeErr map[string]string // action -> change error
	pending   map[string]bool   // action -> change still running when waited for
	lister    *client.Client    // serves ListFiles from files (FileInfo has no constructor)
}

// fakeProc is a service other than MM2.
type fakeProc struct {
	state   client.ServiceStatus
	since   time.Time
	running *layerService
	starts  int
}

type fakeFile struct {
	content     []byte
	perm        uint32
	user, group string
	mtime       time.Time
}

func newFakePebble(t *testing.T) *fakePebble {
	f := &fakePebble{
		t:         t,
		now:       time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		files:     map[string]*fakeFile{},
		procs:     map[string]*fakeProc{},
		changes:   map[string]*client.Change{},
		errs:      map[string]error{},
		changeErr: map[string]string{},
		pending:   map[string]bool{},
	}
	srv := httptest.NewServer(http.HandlerFunc(f.serveList))
	t.Cleanup(srv.Close)
	c, err := client.New(&client.Config{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	f.lister = c
	return f
}

// tick moves the fake clock, so every event has its own instant.
func (f *fakePebble) tick() time.Time {
	f.now = f.now.Add(10 * time.Millisecond)
	return f.now
}

func (f *fakePebble) fail(method string) error { return f.errs[method] }

func notFound(p string) error {
	return &client.Error{Kind: client.ErrorKindNotFound, Message: "stat " + p + ": no such file or directory"}
}

func (f *fakePebble) SysInfo() (*client.SysInfo, error) {
	if err := f.fail("SysInfo"); err != nil {
		return nil, err
	}
	return &client.SysInfo{Version: "fake"}, nil
}

func (f *fakePebble) AddLayer(opts *client.AddLayerOptions) error {
	if err := f.fail("AddLayer"); err != nil {
		return err
	}
	if !opts.Combine || opts.Label != LayerLabel {
		f.t.Errorf("AddLayer: combine=%v label=%q", opts.Combine, opts.Label)
	}
	var l layer
	if err := yaml.Unmarshal(opts.LayerData, &l); err != nil {
		return err
	}
	if f.plan.Services == nil {
		f.plan.Services = map[string]*layerService{}
	}
	if f.plan.Checks == nil {
		f.plan.Checks = map[string]*layerCheck{}
	}
	maps.Copy(f.plan.Services, l.Services) // all ours are override: replace
	maps.Copy(f.plan.Checks, l.Checks)
	if err := f.combineLogTargets(l.LogTargets); err != nil {
		return err
	}
	f.calls = append(f.calls, "add-layer")
	return nil
}

func (f *fakePebble) PlanBytes(*client.PlanOptions) ([]byte, error) {
	if err := f.fail("PlanBytes"); err != nil {
		return nil, err
	}
	f.reads = append(f.reads, "plan")
	return yaml.Marshal(&f.plan)
}

func (f *fakePebble) Push(opts *client.PushOptions) error {
	if err := f.fail("Push"); err != nil {
		return err
	}
	data, err := io.ReadAll(opts.Source)
	if err != nil {
		return err
	}
	if !opts.MakeDirs {
		f.t.Errorf("Push %s without MakeDirs", opts.Path)
	}
	perm := uint32(opts.Permissions)
	if perm == 0 {
		perm = 0o644
	}
	f.files[opts.Path] = &fakeFile{content: data, perm: perm, user: opts.User, group: opts.Group, mtime: f.tick()}
	f.calls = append(f.calls, "push "+opts.Path)
	return nil
}

func (f *fakePebble) RemovePath(opts *client.RemovePathOptions) error {
	if err := f.fail("RemovePath"); err != nil {
		return err
	}
	if _, ok := f.files[opts.Path]; !ok {
		return notFound(opts.Path)
	}
	delete(f.files, opts.Path)
	f.calls = append(f.calls, "remove "+opts.Path)
	return nil
}

func (f *fakePebble) Pull(opts *client.PullOptions) error {
	if err := f.fail("Pull"); err != nil {
		return err
	}
	f.pulls = append(f.pulls, opts.Path)
	file, ok := f.files[opts.Path]
	if !ok {
		return notFound(opts.Path)
	}
	_, err := opts.Target.Write(file.content)
	return err
}

func (f *fakePebble) ListFiles(opts *client.ListFilesOptions) ([]*client.FileInfo, error) {
	if err := f.fail("ListFiles"); err != nil {
		return nil, err
	}
	f.lists = append(f.lists, opts.Path)
	return f.lister.ListFiles(opts)
}

// serveList answers GET /v1/files?action=list like Pebble, from f.files.
func (f *fakePebble) serveList(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	q := r.URL.Query()
	dir, pattern := q.Get("path"), q.Get("pattern")
	type entry struct {
		Path         string `json:"path"`
		Name         string `json:"name"`
		Type         string `json:"type"`
		Size         int64  `json:"size"`
		Permissions  string `json:"permissions"`
		LastModified string `json:"last-modified"`
		User         string `json:"user"`
		Group        string `json:"group"`
	}
	var result []entry
	_, isFile := f.files[dir]
	for p, file := range f.files {
		// As Pebble: a file's path lists the file, a folder's its entries.
		match := p == dir || (!isFile && path.Dir(p) == dir)
		if pattern != "" {
			match, _ = path.Match(path.Join(dir, pattern), p)
		}
		if !match {
			continue
		}
		result = append(result, entry{
			Path: p, Name: path.Base(p), Type: "file", Size: int64(len(file.content)),
			Permissions:  strconv.FormatUint(uint64(file.perm), 8),
			LastModified: file.mtime.Format(time.RFC3339), // Pebble truncates to seconds too
			User:         file.user, Group: file.group,
		})
	}
	if len(result) == 0 && pattern == "" {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]any{"type": "error", "status-code": 404, "status": "Not Found",
			"result": map[string]string{"kind": "not-found", "message": "stat " + dir + ": no such file or directory"}})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"type": "sync", "status-code": 200, "status": "OK", "result": result})
}

func (f *fakePebble) planService() *layerService { return f.plan.Services[ServiceName] }

func (f *fakePebble) active() bool { return f.state == client.StatusActive }

func (f *fakePebble) setState(s client.ServiceStatus) {
	if s != f.state {
		f.state, f.since = s, f.tick()
	}
}

func (f *fakePebble) startProcess() {
	f.running = f.planService()
	f.starts++
	f.setState(client.StatusActive)
}

// proc is the named service other than MM2, made on first use.
func (f *fakePebble) proc(name string) *fakeProc {
	p, ok := f.procs[name]
	if !ok {
		p = &fakeProc{}
		f.procs[name] = p
	}
	return p
}

func (p *fakeProc) setState(f *fakePebble, s client.ServiceStatus) {
	if s != p.state {
		p.state, p.since = s, f.tick()
	}
}

func (p *fakeProc) start(f *fakePebble, name string) {
	p.running = f.plan.Services[name]
	p.starts++
	p.setState(f, client.StatusActive)
}

// change runs one action on one service, named alone: the container runs the
// rock's services too, and MM2 and its companion are never acted on together.
// MM2's change is logged as the action, another service's as "action name";
// changeErr and pending are keyed the same way.
func (f *fakePebble) change(action string, opts *client.ServiceOptions, do func(name string)) (string, error) {
	if err := f.fail(action); err != nil {
		return "", err
	}
	if len(opts.Names) != 1 {
		return "", &client.Error{Message: fmt.Sprintf("%s: unexpected names %q", action, opts.Names)}
	}
	name := opts.Names[0]
	if f.plan.Services[name] == nil {
		return "", &client.Error{Message: fmt.Sprintf("service %q does not exist", name)}
	}
	key := action
	if name != ServiceName {
		key += " " + name
	}
	f.nextID++
	id := strconv.Itoa(f.nextID)
	f.calls = append(f.calls, key)
	chg := &client.Change{ID: id, Kind: action, Status: "Done", Ready: true}
	if f.pending[key] {
		chg.Status, chg.Ready = "Doing", false
	} else if msg := f.changeErr[key]; msg != "" {
		chg.Status, chg.Err = "Error", msg
		chg.Tasks = []*client.Task{{Kind: action, Status: "Error", Log: []string{"2026-01-02T03:04:05Z ERROR " + msg}}}
	} else {
		do(name)
	}
	f.changes[id] = chg
	return id, nil
}

func (f *fakePebble) Start(opts *client.ServiceOptions) (string, error) {
	return f.change("start", opts, func(name string) {
		if name != ServiceName {
			if p := f.proc(name); p.state != client.StatusActive {
				p.start(f, name)
			}
		} else if !f.active() {
			f.startProcess()
		}
	})
}

func (f *fakePebble) Stop(opts *client.ServiceOptions) (string, error) {
	return f.change("stop", opts, func(name string) {
		if name != ServiceName {
			f.proc(name).setState(f, client.StatusInactive)
		} else {
			f.setState(client.StatusInactive)
		}
	})
}

func (f *fakePebble) Restart(opts *client.ServiceOptions) (string, error) {
	return f.change("restart", opts, func(name string) {
		if name != ServiceName {
			p := f.proc(name)
			p.setState(f, client.StatusInactive)
			p.start(f, name)
			return
		}
		f.setState(client.StatusInactive)
		f.startProcess()
	})
}

func (f *fakePebble) WaitChange(id string, opts *client.WaitChangeOptions) (*client.Change, error) {
	if err := f.fail("WaitChange"); err != nil {
		return nil, err
	}
	if opts == nil || opts.Timeout <= 0 {
		f.t.Errorf("WaitChange %s without a timeout", id)
	}
	chg, ok := f.changes[id]
	if !ok {
		return nil, errors.New("no such change")
	}
	return chg, nil
}

func (f *fakePebble) Services(opts *client.ServicesOptions) ([]*client.ServiceInfo, error) {
	if err := f.fail("Services"); err != nil {
		return nil, err
	}
	f.reads = append(f.reads, "services "+strings.Join(opts.Names, ","))
	var infos []*client.ServiceInfo
	for _, name := range opts.Names { // as Pebble: names not in the plan are skipped
		svc := f.plan.Services[name]
		if svc == nil {
			continue
		}
		state, since := f.state, f.since
		if name != ServiceName {
			p := f.proc(name)
			state, since = p.state, p.since
		}
		if state == "" {
			state = client.StatusInactive
		}
		infos = append(infos, &client.ServiceInfo{
			Name: name, Startup: client.ServiceStartup(svc.Startup), Current: state, CurrentSince: since,
		})
	}
	return infos, nil
}
