package charm

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks/hookstest"
	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/workload"
)

// toolsDuring runs f and returns the hook tools it called on unit, each as "tool flags...": the
// arguments that are flags, so secret-get --refresh shows, and what a call is about
// (relation-get's member) stays out of the way.
func (h *harness) toolsDuring(unit string, f func()) []string {
	from := len(h.calls)
	f()
	var out []string
	for _, c := range h.calls[from:] {
		if c.unit != unit {
			continue
		}
		call := c.tool
		for _, a := range c.args {
			if strings.HasPrefix(a, "--") && a != "--" && a != "--format=json" {
				call += " " + a
			}
		}
		out = append(out, call)
	}
	return out
}

// contents is each pushed file's content and mode, by path.
func contents(files map[string]workload.File) map[string]string {
	out := map[string]string{}
	for p, f := range files {
		out[p] = fmt.Sprintf("%o %s:%s\n%s", f.Perm, f.User, f.Group, f.Content)
	}
	return out
}

// mirroringCached is two units mirroring, every unit told, every cache written.
func mirroringCached(t *testing.T) (*harness, *hookstest.Relation, *hookstest.Relation) {
	h := newHarness(t, 2)
	source, target := h.ready()
	h.action(h.unit(0), "start-migration", nil)
	h.peerChanged()
	h.everywhere("update-status", nil) // the leader's cache after its action
	return h, source, target
}

// TestGivenAValidCacheWhenUpdateStatusThenOnlyLeadershipAndStatusAreAsked: update-status on a
// unit whose last hooks read the model asks Juju only what can change without an event (who
// leads) and the passwords the cache does not hold (a secret-get a side, without --refresh).
// No config or relation is read again, and the files stay as they were.
func TestGivenAValidCacheWhenUpdateStatusThenOnlyLeadershipAndStatusAreAsked(t *testing.T) {
	tests := []struct {
		name      string
		unit      int
		migrating bool
		want      []string
	}{
		{"non-leader, ready", 1, false, []string{"is-leader", "secret-get", "secret-get", "status-set"}},
		{"non-leader, mirroring", 1, true, []string{"is-leader", "secret-get", "secret-get", "status-set"}},
		{"leader, ready", 0, false, []string{"is-leader", "secret-get", "secret-get", "status-set", "status-set --application"}},
		// It measures: it keeps the line and sets it once, on the unit and the application.
		{"leader, mirroring", 0, true, []string{"is-leader", "secret-get", "secret-get", "state-set --file", "status-set", "status-set --application"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 2)
			h.ready()
			if tt.migrating {
				h.action(h.unit(0), "start-migration", nil)
				h.peerChanged()
			}
			unit := h.unit(tt.unit)
			h.hook(unit, "update-status", nil, "") // after an action the leader reads once
			before := maps.Clone(h.workloads[unit].files)
			got := h.toolsDuring(unit, func() { h.hook(unit, "update-status", nil, "") })
			assert.Equal(t, tt.want, got)
			assert.Equal(t, before, h.workloads[unit].files)
			assert.Equal(t, []workload.Result{{State: h.workloads[unit].state}}, h.workloads[unit].applied[len(h.workloads[unit].applied)-1:],
				"nothing pushed, started or stopped")
		})
	}
}

// TestGivenAnEventWhenItFiresThenTheModelIsReadAgain: every event but update-status announces a
// change, so it reads the model afresh whatever the cache holds, and the files it renders are
// the files a charm without any cache renders.
func TestGivenAnEventWhenItFiresThenTheModelIsReadAgain(t *testing.T) {
	tests := []struct {
		name   string
		change func(h *harness, source, target *hookstest.Relation) // the change and its event(s)
		reads  []string                                             // tools the event must call on unit 1
		want   string                                               // in the files afterwards
	}{{
		name: "secret-changed: the new password, with --refresh",
		change: func(h *harness, source, _ *hookstest.Relation) {
			uri := source.Data["kafka-old"]["secret-user"]
			require.NoError(h.t, h.m.UpdateSecret(uri, map[string]string{"username": "relation-9", "password": "rotated-Pa55"}))
			for _, u := range h.m.Units {
				require.NoError(h.t, h.dispatch(u, h.m.SecretEnv(u, "secret-changed", uri)))
			}
		},
		reads: []string{"config-get", "relation-get --app", "secret-get --refresh"},
		want:  "rotated-Pa55",
	}, {
		name: "source-relation-changed: the new endpoints",
		change: func(h *harness, source, _ *hookstest.Relation) {
			data := maps.Clone(source.Data["kafka-old"])
			data["endpoints"] = "old-7:9092"
			require.NoError(h.t, h.m.SetRemoteAppData(source.ID, data))
			h.everywhere("source-relation-changed", source)
		},
		reads: []string{"config-get", "relation-get --app", "secret-get"},
		want:  "old-7:9092",
	}, {
		name: "config-changed: the new option",
		change: func(h *harness, _, _ *hookstest.Relation) {
			h.m.Config["topics-exclude"] = "internal-.*"
			h.everywhere("config-changed", nil)
		},
		reads: []string{"config-get", "relation-get --app", "secret-get"},
		want:  "internal-.*",
	}, {
		name: "upgrade-charm: everything read again",
		change: func(h *harness, _, _ *hookstest.Relation) {
			h.everywhere("upgrade-charm", nil)
		},
		reads: []string{"config-get", "relation-get --app", "secret-get", "network-get --bind-address"},
		want:  "src-Pa55word",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[bool]map[string]string{}
			for _, cached := range []bool{true, false} {
				h, source, target := mirroringCached(t)
				if !cached {
					h.charmDirs = map[string]string{} // no charm directory: no cache
				}
				got := h.toolsDuring(h.unit(1), func() { tt.change(h, source, target) })
				for _, read := range tt.reads {
					assert.Contains(t, got, read, "cached=%v", cached)
				}
				h.everywhere("update-status", nil)
				files[cached] = contents(h.workloads[h.unit(1)].files)
			}
			assert.Contains(t, files[true][mm2.PropertiesPath]+files[true][mm2.SecretsPath], tt.want)
			assert.Equal(t, files[false], files[true], "the same files with the cache as without")
		})
	}
}

// TestGivenARevisionNoEventAnnouncedWhenUpdateStatusThenTheTrackedOneStays: without --refresh
// Juju hands a unit the revision it tracks, so a revision added without secret-changed (which
// Juju never does) would not be read by a fresh read either: the cache changes nothing. Only
// secret-changed refreshes.
func TestGivenARevisionNoEventAnnouncedWhenUpdateStatusThenTheTrackedOneStays(t *testing.T) {
	for _, cached := range []bool{true, false} {
		h, source, _ := mirroringCached(t)
		if !cached {
			h.charmDirs = map[string]string{}
		}
		uri := source.Data["kafka-old"]["secret-user"]
		require.NoError(t, h.m.UpdateSecret(uri, map[string]string{"username": "relation-9", "password": "rotated-Pa55"}))
		got := h.toolsDuring(h.unit(1), func() { h.hook(h.unit(1), "update-status", nil, "") })
		assert.NotContains(t, got, "secret-get --refresh", "cached=%v", cached)
		assert.Contains(t, string(h.workloads[h.unit(1)].files[mm2.SecretsPath].Content), "src-Pa55word", "cached=%v", cached)
	}
}

// TestGivenLeadershipMovedWhenUpdateStatusThenTheModelIsReadAgain: a unit that lost leadership
// is told nothing, and one that gained it may run update-status before leader-elected; a cache
// written under the other answer is not used.
func TestGivenLeadershipMovedWhenUpdateStatusThenTheModelIsReadAgain(t *testing.T) {
	h, _, _ := mirroringCached(t)
	h.m.Leader = h.unit(1)
	for _, u := range h.m.Units {
		got := h.toolsDuring(u, func() { h.hook(u, "update-status", nil, "") })
		assert.Contains(t, got, "config-get", u)
		again := h.toolsDuring(u, func() { h.hook(u, "update-status", nil, "") })
		assert.NotContains(t, again, "config-get", "%s: the new cache holds", u)
	}
	got := h.toolsDuring(h.unit(1), func() { h.hook(h.unit(1), "update-status", nil, "") })
	assert.Contains(t, got, "status-set --application", "the new leader sets the application status")
}

// TestGivenAHookThatFailsThenNoCacheIsLeft: a hook that fails (or that juju resolved
// --no-retry skips) leaves no cache behind, so the next update-status reads the change it
// announced; the cache it writes is readable by the charm only.
func TestGivenAHookThatFailsThenNoCacheIsLeft(t *testing.T) {
	h, source, _ := mirroringCached(t)
	path := filepath.Join(h.charmDirs[h.unit(1)], CacheFile)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	data := maps.Clone(source.Data["kafka-old"])
	data["endpoints"] = "old-7:9092"
	require.NoError(t, h.m.SetRemoteAppData(source.ID, data))
	h.failTool = "network-get"
	require.Error(t, h.dispatch(h.unit(1), h.m.Env(h.unit(1), "source-relation-changed", source, "")))
	assert.NoFileExists(t, path)

	h.failTool = ""
	h.hook(h.unit(1), "update-status", nil, "")
	assert.Contains(t, string(h.workloads[h.unit(1)].files[mm2.PropertiesPath].Content), "old-7:9092")
}

// TestGivenACacheThenItHoldsNoPassword: passwords live in no file but the workload's secrets
// file. The cache keeps where each was read, and update-status reads it there again: after a
// rotation the new password is in the secrets file and still in no cache.
func TestGivenACacheThenItHoldsNoPassword(t *testing.T) {
	h, source, target := mirroringCached(t)
	passwords := func() []string {
		var out []string
		for _, rel := range []*hookstest.Relation{source, target} {
			for app, data := range rel.Data {
				if uri := data["secret-user"]; uri != "" && !strings.HasPrefix(app, "mirrormaker") {
					revs := h.m.Secret(uri).Revisions
					out = append(out, revs[len(revs)-1]["password"])
				}
			}
		}
		require.Len(t, out, 2)
		return out
	}
	check := func(when string) {
		for _, u := range h.m.Units {
			data, err := os.ReadFile(filepath.Join(h.charmDirs[u], CacheFile))
			require.NoError(t, err, "%s: %s", when, u)
			for _, p := range passwords() {
				assert.NotContains(t, string(data), p, "%s: %s's cache", when, u)
				assert.Contains(t, string(h.workloads[u].files[mm2.SecretsPath].Content), p, "%s: %s's secrets file", when, u)
			}
		}
	}
	check("mirroring")
	uri := source.Data["kafka-old"]["secret-user"]
	require.NoError(t, h.m.UpdateSecret(uri, map[string]string{"username": "relation-9", "password": "rotated-Pa55"}))
	for _, u := range h.m.Units {
		require.NoError(t, h.dispatch(u, h.m.SecretEnv(u, "secret-changed", uri)))
	}
	h.everywhere("update-status", nil)
	check("after a rotation")
}

// TestGivenEachWayAPasswordComesThenUpdateStatusReadsItThereAgain: a provider's user secret, a
// provider's plain fields (before Juju secrets), and the source-credentials secret of a source
// outside Juju. Each password is read again where it came from, and never cached.
func TestGivenEachWayAPasswordComesThenUpdateStatusReadsItThereAgain(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *harness)
		reads []string // the non-leader's update-status with its cache
	}{{
		name:  "user secrets",
		setup: func(h *harness) { h.ready() },
		reads: []string{"is-leader", "secret-get", "secret-get", "status-set"},
	}, {
		name: "plain fields on the source relation",
		setup: func(h *harness) {
			h.relate("source", "kafka-old", map[string]string{"endpoints": "old-0:9092", "username": "relation-9",
				"password": "src-Pa55word", "tls": "disabled", "topic": "__mirrormaker-user"})
			h.relate("target", "kafka-k8s", h.providerAnswer("kafka-k8s-0.kafka-k8s-endpoints:9092", "tgt-Pa55word"))
		},
		reads: []string{"is-leader", "relation-get --app", "secret-get", "status-set"},
	}, {
		name: "source-credentials",
		setup: func(h *harness) {
			h.m.Config["source-bootstrap-servers"] = "old-0:9092"
			h.m.Config["source-credentials"] = h.m.AddSecret(map[string]string{"username": "admin", "password": "src-Pa55word"})
			h.everywhere("config-changed", nil)
			h.relate("target", "kafka-k8s", h.providerAnswer("kafka-k8s-0.kafka-k8s-endpoints:9092", "tgt-Pa55word"))
		},
		reads: []string{"is-leader", "secret-get", "secret-get", "status-set"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 2)
			tt.setup(h)
			u := h.unit(1)
			h.hook(u, "update-status", nil, "")
			got := h.toolsDuring(u, func() { h.hook(u, "update-status", nil, "") })
			assert.Equal(t, tt.reads, got)
			secrets := string(h.workloads[u].files[mm2.SecretsPath].Content)
			data, err := os.ReadFile(filepath.Join(h.charmDirs[u], CacheFile))
			require.NoError(t, err)
			for _, p := range []string{"src-Pa55word", "tgt-Pa55word"} {
				assert.Contains(t, secrets, p)
				assert.NotContains(t, string(data), p)
			}
		})
	}
}

// TestGivenTheLeaderWroteTheIntentWhenUpdateStatusThenItFollowsIt: the leader is not told of
// its own writes, so an action drops its cache and its next update-status follows what it wrote.
func TestGivenTheLeaderWroteTheIntentWhenUpdateStatusThenItFollowsIt(t *testing.T) {
	h, _, _ := mirroringCached(t)
	h.action(h.unit(0), "stop-migration", nil)
	h.hook(h.unit(0), "update-status", nil, "")
	assert.Equal(t, workload.StateInactive, h.workloads[h.unit(0)].state)
	h.action(h.unit(0), "start-migration", nil)
	h.hook(h.unit(0), "update-status", nil, "")
	assert.Equal(t, workload.StateActive, h.workloads[h.unit(0)].state)
}

// TestGivenAWholeLifecycleThenEachDispatchReadsEachValueOnce: no dispatch asks Juju the same
// question twice (the answer cannot change within a hook: Juju's hook context is a snapshot),
// and no hook lists the workload's Kafka version twice (the harness checks that of every
// dispatch). An action asks is-leader again only
// after it failed, to tell whether leadership moved while it ran.
func TestGivenAWholeLifecycleThenEachDispatchReadsEachValueOnce(t *testing.T) {
	h := newHarness(t, 3)
	source, target := h.ready()
	h.everywhere("mirrormaker-pebble-ready", nil)
	h.action(h.unit(0), "start-migration", nil)
	h.peerChanged()
	h.everywhere("update-status", nil)
	h.everywhere("update-status", nil)
	uri := source.Data["kafka-old"]["secret-user"]
	require.NoError(t, h.m.UpdateSecret(uri, map[string]string{"username": "relation-9", "password": "rotated-Pa55"}))
	for _, u := range h.m.Units {
		require.NoError(t, h.dispatch(u, h.m.SecretEnv(u, "secret-changed", uri)))
	}
	h.m.Config["tasks-max"] = float64(4)
	h.everywhere("config-changed", nil)
	h.everywhere("upgrade-charm", nil)
	h.action(h.unit(0), "sync-status", nil)
	h.action(h.unit(0), "stop-migration", nil)
	h.peerChanged()
	target.Broken = true
	h.everywhere("target-relation-broken", target)
	h.m.RemoveRelation(target.ID)
	h.everywhere("update-status", nil)

	reads := map[string]bool{"config-get": true, "is-leader": true, "relation-ids": true, "relation-list": true,
		"relation-get": true, "secret-get": true, "network-get": true, "state-get": true, "action-get": true}
	asked := map[string]int{}
	for i, c := range h.calls {
		if reads[c.tool] {
			asked[fmt.Sprintf("dispatch %d on %s: %s %s", h.seqs[i], c.unit, c.tool, strings.Join(c.args, " "))]++
		}
	}
	for q, n := range asked {
		assert.Equal(t, 1, n, q)
	}
}

// TestGivenARelationEventThenItsRemoteApplicationIsNotAsked: a relation event names the
// remote application of its relation, so the hook asks relation-list --app only of the other.
func TestGivenARelationEventThenItsRemoteApplicationIsNotAsked(t *testing.T) {
	h, source, target := mirroringCached(t)
	from := len(h.calls)
	h.hook(h.unit(1), "source-relation-changed", source, "kafka-old/0")
	asked := map[string]int{}
	for _, c := range h.calls[from:] {
		if c.tool == "relation-list" && slices.Contains(c.args, "--app") {
			asked[c.args[slices.Index(c.args, "-r")+1]]++
		}
	}
	assert.Equal(t, map[string]int{fmt.Sprintf("target:%d", target.ID): 1}, asked)
}
