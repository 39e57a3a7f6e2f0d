package workload

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// companionStarts is where the companion's script records each start.
const companionStarts = "companion-starts"

// companion is a stand-in for the migration exporter: it records each start
// (pid and $MARK) and prints a line every 100 ms, for log forwarding to carry.
func (p *realPebble) companion(t *testing.T, mark string) *Companion {
	t.Helper()
	script := "#!/bin/sh\necho \"$$ $MARK\" >> " + filepath.Join(p.dir, companionStarts) +
		"\nwhile :; do echo \"exporter $MARK\"; sleep 0.1; done\n"
	path := filepath.Join(p.dir, "exporter.sh")
	require.NoError(t, os.WriteFile(path, []byte(script), 0o755))
	return &Companion{Name: exporterName, Summary: "the migration exporter", Command: path,
		Environment: map[string]string{"MARK": mark}}
}

// TestRealPebbleCompanion runs the companion beside MM2 on each daemon and
// counts the processes each service starts: the companion runs while MM2 is
// stopped, and neither is restarted for the other's sake.
func TestRealPebbleCompanion(t *testing.T) {
	for _, daemon := range pebbles {
		t.Run(daemon.name, func(t *testing.T) {
			p := startPebble(t, daemon)
			r := &pebbleRun{t: t, p: p}
			starts := func(name string, mm2, companion int) {
				t.Helper()
				assert.Equal(t, mm2, len(p.starts(t)), "%s: MM2 processes started in all", name)
				assert.Equal(t, companion, len(p.startsIn(t, companionStarts)), "%s: companion processes started in all", name)
			}

			d := stopped(p.desired("a=1\n", "one"))
			d.Companion = p.companion(t, "c1")
			res := r.step("companion alone", d, 0, "")
			assert.True(t, res.CompanionStarted)
			assert.Equal(t, StateActive, res.CompanionState)
			starts("companion alone", 0, 1)

			d.Running = true
			res = r.step("MM2 too", d, 1, "one")
			assert.Equal(t, Result{LayerChanged: true, Started: true}, withoutCompanionState(res))
			starts("MM2 too", 1, 1)

			d = p.desired("a=2\n", "one")
			d.Companion = p.companion(t, "c1")
			res = r.step("a file changed", d, 1, "one")
			assert.Equal(t, Result{Pushed: []string{d.Files[0].Path}, Restarted: true}, withoutCompanionState(res))
			starts("a file changed", 2, 1)

			d.Companion.Environment["MARK"] = "c2"
			res = r.step("companion changed", d, 0, "")
			assert.Equal(t, Result{LayerChanged: true, CompanionRestarted: true}, withoutCompanionState(res))
			starts("companion changed", 2, 2)
			got := p.startsIn(t, companionStarts)
			assert.Equal(t, "c2", got[len(got)-1].mark, "the companion restarted with its new environment")

			changes := p.changeCount(t)
			res = r.step("same again", d, 0, "")
			assert.Equal(t, Result{CompanionState: StateActive}, res)
			assert.Equal(t, changes, p.changeCount(t), "same again: no new Pebble changes")

			d.Running = false
			res = r.step("MM2 stopped", d, 0, "")
			assert.Equal(t, Result{LayerChanged: true, Stopped: true, CompanionState: StateActive}, res)
			infos, err := p.client.Services(&client.ServicesOptions{Names: []string{exporterName}})
			require.NoError(t, err)
			require.Len(t, infos, 1)
			assert.Equal(t, client.StatusActive, infos[0].Current, "the companion runs while MM2 is stopped")
			starts("MM2 stopped", 2, 2)

			assert.NoFileExists(t, filepath.Join(p.dir, "broker-starts"), "the rock's own broker service was started")
		})
	}
}

func withoutCompanionState(r Result) Result {
	r.CompanionState = ""
	return r
}

// fakeLoki records the log lines pushed to it, by path, with their labels.
type fakeLoki struct {
	srv   *httptest.Server
	mu    sync.Mutex
	lines map[string][]lokiLine
}

type lokiLine struct {
	labels map[string]string
	line   string
}

func newFakeLoki(t *testing.T) *fakeLoki {
	l := &fakeLoki{lines: map[string][]lokiLine{}}
	l.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Streams []struct {
				Stream map[string]string `json:"stream"`
				Values [][2]string       `json:"values"`
			} `json:"streams"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, s := range req.Streams {
			for _, v := range s.Values {
				l.lines[r.URL.Path] = append(l.lines[r.URL.Path], lokiLine{s.Stream, v[1]})
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(l.srv.Close)
	return l
}

func (l *fakeLoki) url(path string) string { return l.srv.URL + path }

func (l *fakeLoki) received(path string) []lokiLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]lokiLine(nil), l.lines[path]...)
}

// waitFor polls until cond holds, for up to 10 s (Pebble flushes forwarded
// logs every second).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond) // polling, with the deadline above
	}
}

// TestRealPebbleLogTargets forwards the companion's logs to a fake Loki on
// each daemon (v1.16.0 included: a layer with log targets and labels parses
// there), then drops our targets: Pebble keeps them in the plan, disabled,
// and stops sending to them, while another layer's target keeps receiving.
func TestRealPebbleLogTargets(t *testing.T) {
	for _, daemon := range pebbles {
		t.Run(daemon.name, func(t *testing.T) {
			p := startPebble(t, daemon)
			loki := newFakeLoki(t)
			other := "log-targets:\n  other-loki:\n    override: replace\n    type: loki\n    location: " +
				loki.url("/other") + "\n    services: [all]\n"
			require.NoError(t, p.client.AddLayer(&client.AddLayerOptions{Label: "other", LayerData: []byte(other)}))

			d := p.desired("a=1\n", "one")
			d.Companion = p.companion(t, "c1")
			labels := map[string]string{"juju_model": "mm", "juju_unit": "mirrormaker-k8s/0"}
			d.LogTargets = []LogTarget{
				{Name: LogTargetPrefix + "0", Location: loki.url("/0"), Labels: labels},
				{Name: LogTargetPrefix + "1", Location: loki.url("/1"), Services: []string{exporterName}},
			}
			res, err := p.w.Apply(d)
			require.NoError(t, err)
			assert.True(t, res.LogTargetsChanged)
			plan := p.plan(t)
			assert.Equal(t, &layerLogTarget{Override: "replace", Type: "loki", Location: loki.url("/0"),
				Services: []string{"all"}, Labels: labels}, plan.LogTargets[LogTargetPrefix+"0"])

			waitFor(t, "the companion's logs at /0", func() bool { return len(loki.received("/0")) > 0 })
			got := loki.received("/0")[0]
			assert.Equal(t, "exporter c1", got.line)
			assert.Equal(t, map[string]string{"juju_model": "mm", "juju_unit": "mirrormaker-k8s/0",
				"pebble_service": exporterName}, got.labels, "our labels reach Loki")
			waitFor(t, "the companion's logs at /1", func() bool { return len(loki.received("/1")) > 0 })

			res, err = p.w.Apply(d)
			require.NoError(t, err)
			assert.False(t, res.LayerChanged, "same again: no layer added")

			mm2Starts, exporterStarts := len(p.starts(t)), len(p.startsIn(t, companionStarts))
			d.LogTargets = []LogTarget{}
			res, err = p.w.Apply(d)
			require.NoError(t, err)
			assert.Equal(t, Result{LayerChanged: true, LogTargetsChanged: true}, withoutCompanionState(withoutState(res)))
			assert.Equal(t, mm2Starts, len(p.starts(t)), "no MM2 restart for log targets")
			assert.Equal(t, exporterStarts, len(p.startsIn(t, companionStarts)), "no companion restart for log targets")
			plan = p.plan(t)
			for _, name := range []string{"0", "1"} {
				assert.Equal(t, []string{"-all"}, plan.LogTargets[LogTargetPrefix+name].Services, "target %s disabled", name)
			}
			assert.Equal(t, []string{"all"}, plan.LogTargets["other-loki"].Services, "another layer's target is left alone")

			res, err = p.w.Apply(d)
			require.NoError(t, err)
			assert.False(t, res.LayerChanged, "disabled, same again: no layer added")

			// What was buffered before the change may still arrive; then nothing more,
			// while the other target keeps receiving the companion's lines. The other
			// target's progress is the clock: the companion logs every 0.1 s, so 15 more
			// lines there span more than one of Pebble's 1 s flushes, after which nothing
			// buffered for /0 or /1 is left.
			more := func(n int) {
				atOther := len(loki.received("/other"))
				waitFor(t, "more lines at /other", func() bool { return len(loki.received("/other")) >= atOther+n })
			}
			more(15)
			at0, at1 := len(loki.received("/0")), len(loki.received("/1"))
			more(15)
			assert.Equal(t, at0, len(loki.received("/0")), "a disabled target receives nothing more")
			assert.Equal(t, at1, len(loki.received("/1")), "a disabled target receives nothing more")
		})
	}
}

func withoutState(r Result) Result {
	r.State, r.Stamps = "", nil
	return r
}

func (p *realPebble) plan(t *testing.T) *layer {
	t.Helper()
	data, err := p.client.PlanBytes(nil)
	require.NoError(t, err)
	plan, err := parsePlan(data)
	require.NoError(t, err)
	return plan
}
