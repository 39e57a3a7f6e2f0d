package charm

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks"
	"mirrormaker-k8s/hooks/hookstest"
	"mirrormaker-k8s/internal/migration"
	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/workload"
)

func TestGivenFreshDeployWhenInstallThenBlockedOnMissingSource(t *testing.T) {
	h := newHarness(t, 2)
	for _, ev := range []string{"install", "leader-elected", "config-changed", "start", "mirrormaker-pebble-ready"} {
		h.hook(h.unit(0), ev, nil, "")
	}
	h.hook(h.unit(1), "install", nil, "")
	assert.Equal(t, wantBlocked("missing source relation or source-* config"), h.status(h.unit(0)))
	assert.Equal(t, wantBlocked("missing source relation or source-* config"), h.status(h.unit(1)))
	assert.Equal(t, "3.9.1", h.m.Version, "pebble-ready sets the workload version")
	files := h.workloads[h.unit(0)].files
	assert.Len(t, files, 1, "nothing of MM2's is pushed before both clusters are known")
	assert.Contains(t, files, "/etc/kafka/mm2-exporter.json", "the exporter runs, to say it does not measure")
	assert.NotNil(t, h.workloads[h.unit(0)].companion)
	assert.Empty(t, h.workloads[h.unit(0)].service.Command, "MM2 has no command yet")
}

// TestGivenPebbleNotReadyWhenHookThenTheUsersProblemFirstElseWaitingForPebble: before the
// container is up, a missing relation or a bad option is still named (the user can fix it
// meanwhile); with nothing to fix, the unit waits for Pebble.
func TestGivenPebbleNotReadyWhenHookThenTheUsersProblemFirstElseWaitingForPebble(t *testing.T) {
	for _, tc := range []struct {
		name    string
		related bool
		config  map[string]any
		want    hookstest.Status
	}{
		{"nothing related", false, nil, wantBlocked("missing source relation or source-* config")},
		{"a bad option", true, map[string]any{"tasks-max": 0}, hookstest.Status{Name: "blocked"}},
		{"both related", true, nil, hookstest.Status{Name: "waiting", Message: "waiting for Pebble"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 1)
			h.workloads[h.unit(0)].notReady = true
			if tc.related {
				h.ready()
			}
			for k, v := range tc.config {
				h.m.Config[k] = v
			}
			h.hook(h.unit(0), "config-changed", nil, "")
			got := h.status(h.unit(0))
			assert.Equal(t, tc.want.Name, got.Name, got.Message)
			if tc.want.Message != "" {
				assert.Equal(t, tc.want.Message, got.Message)
			} else {
				assert.Contains(t, got.Message, "tasks-max")
			}
		})
	}
}

func TestGivenSourceOnlyWhenRelatedThenBlockedOnMissingTarget(t *testing.T) {
	h := newHarness(t, 1)
	h.relate("source", "kafka-old", h.providerAnswer("old-0:9092", "pw"))
	assert.Equal(t, wantBlocked("missing target relation"), h.status(h.unit(0)))
}

func TestGivenLeaderWhenRelationCreatedThenRequestWritten(t *testing.T) {
	h := newHarness(t, 2)
	rel := h.m.AddRelation("source", "kafka-old", "kafka-old/0")
	h.hook(h.unit(1), "source-relation-created", rel, "")
	assert.Empty(t, rel.Data[app], "a non-leader cannot write the application databag")
	h.hook(h.unit(0), "source-relation-created", rel, "")
	assert.Equal(t, map[string]string{
		"topic":             "__mirrormaker-user",
		"extra-user-roles":  "admin",
		"requested-secrets": `["username","password","tls","tls-ca","uris"]`,
	}, rel.Data[app])
}

func TestGivenProviderSilentWhenRelatedThenWaitingForCredentials(t *testing.T) {
	h := newHarness(t, 1)
	h.relate("source", "kafka-old", nil)
	h.relate("target", "kafka-k8s", h.providerAnswer("k:9092", "pw"))
	assert.Equal(t, "waiting", h.status(h.unit(0)).Name)
	assert.Equal(t, "waiting for source credentials", h.status(h.unit(0)).Message)
}

func TestGivenBothRelationsWhenCredentialsArriveThenReadyButNotMirroring(t *testing.T) {
	h := newHarness(t, 2)
	h.ready()
	for _, u := range h.m.Units {
		assert.Equal(t, wantActive("ready: run start-migration"), h.status(u))
		w := h.workloads[u]
		assert.Equal(t, 0, w.starts, "MM2 never starts merely because relations exist")
		require.Contains(t, w.files, mm2.PropertiesPath)
		require.Contains(t, w.files, mm2.SecretsPath)
		assert.EqualValues(t, 0o600, w.files[mm2.SecretsPath].Perm)
		assert.Equal(t, "kafka", w.files[mm2.SecretsPath].User)
		assert.Contains(t, string(w.files[mm2.SecretsPath].Content), "src-Pa55word")
		assert.NotContains(t, string(w.files[mm2.PropertiesPath].Content), "Pa55word")
		assert.False(t, w.running)
		assert.Equal(t, "/opt/kafka/bin/connect-mirror-maker.sh /etc/kafka/mm2.properties", w.service.Command)
		assert.Equal(t, "kafka", w.service.User)
	}
	assert.Contains(t, string(h.workloads[h.unit(1)].files[mm2.PropertiesPath].Content), "127.0.0.12",
		"each unit advertises its own address")
}

func TestGivenReadyWhenStartMigrationOnLeaderThenEveryUnitMirrors(t *testing.T) {
	h := newHarness(t, 3)
	h.ready()
	a := h.action(h.unit(0), "start-migration", nil)
	require.False(t, a.Failed, a.FailMessage)
	assert.Equal(t, "started: MirrorMaker 2 starts on all 3 units", a.Results["status"])
	assert.Equal(t, "started", h.peerData()["migration"])
	assert.Equal(t, wantActive("mirroring 2 topics/12 partitions: starting, 5,000 records to copy; groups 0/1 synced"),
		h.status(h.unit(0)), "the leader measures after the action")
	h.peerChanged()
	for _, u := range h.m.Units[1:] {
		assert.Equal(t, wantActive("mirroring"), h.status(u))
	}
	for _, u := range h.m.Units {
		assert.Equal(t, 1, h.workloads[u].starts, u)
	}
	again := h.action(h.unit(0), "start-migration", nil)
	assert.Equal(t, "already mirroring", again.Results["status"])
	for _, u := range h.m.Units {
		assert.Equal(t, 1, h.workloads[u].starts, "a second start-migration restarts nothing on %s", u)
	}
}

func TestGivenNonLeaderWhenActionThenFailsNamingLeaderCommand(t *testing.T) {
	h := newHarness(t, 2)
	h.ready()
	for _, name := range []string{"start-migration", "stop-migration"} {
		a := h.action(h.unit(1), name, nil)
		assert.True(t, a.Failed)
		assert.Equal(t, name+" must run on the leader: juju run mirrormaker-k8s/leader "+name, a.FailMessage)
	}
	assert.Empty(t, h.peerData()["migration"])
	assert.Equal(t, 0, h.workloads[h.unit(1)].starts)
}

func TestGivenNotReadyWhenStartMigrationThenFailsWithReason(t *testing.T) {
	h := newHarness(t, 1)
	h.relate("source", "kafka-old", h.providerAnswer("old-0:9092", "pw"))
	a := h.action(h.unit(0), "start-migration", nil)
	assert.True(t, a.Failed)
	assert.Equal(t, "cannot start the migration: missing target relation", a.FailMessage)
}

func TestGivenDryRunWhenStartMigrationThenPlanAndNothingStarts(t *testing.T) {
	h := newHarness(t, 1)
	h.ready()
	a := h.action(h.unit(0), "start-migration", map[string]any{"dry-run": true})
	require.False(t, a.Failed, a.FailMessage)
	assert.Equal(t, "dry run: preflight passed, nothing started", a.Results["status"])
	assert.Equal(t, "2", a.Results["plan.topics"])
	assert.Equal(t, "12", a.Results["plan.partitions"])
	assert.Equal(t, "3145728", a.Results["plan.bytes"])
	assert.Equal(t, "payments", a.Results["plan.topic.1.source"])
	assert.Equal(t, []string{"preflight: checking both clusters"}, a.Logs)
	assert.Equal(t, 0, h.workloads[h.unit(0)].starts)
	assert.Empty(t, h.peerData()["migration"])
	assert.Equal(t, 3, h.kafka.preflight.ReplicationFactor, "the preflight checks the configured replication factor")
	assert.Equal(t, "old", h.kafka.preflight.Flow.SourceAlias)
}

func TestGivenPreflightProblemsWhenStartMigrationThenFailsListingEveryProblem(t *testing.T) {
	h := newHarness(t, 2)
	h.ready()
	h.kafka.plan.Problems = []migration.Problem{
		{Side: "target", Item: "brokers", Reason: "1 broker, fewer than replication-factor 3"},
		{Side: "target", Item: "topic orders", Reason: "has 3 partitions, the source topic orders has 6"},
	}
	a := h.action(h.unit(0), "start-migration", nil)
	assert.True(t, a.Failed)
	assert.Equal(t, "preflight found 2 problem(s), nothing started: "+
		"(1) target: brokers: 1 broker, fewer than replication-factor 3; "+
		"(2) target: topic orders: has 3 partitions, the source topic orders has 6", a.FailMessage)
	assert.Equal(t, "target: brokers: 1 broker, fewer than replication-factor 3", a.Results["problems.0"])
	assert.Empty(t, h.peerData()["migration"])
	for _, u := range h.m.Units {
		assert.Equal(t, 0, h.workloads[u].starts, u)
	}
}

func TestGivenMirroringWhenHooksRepeatThenNothingIsPushedOrRestarted(t *testing.T) {
	h := newHarness(t, 2)
	h.ready()
	h.action(h.unit(0), "start-migration", nil)
	h.peerChanged()
	for _, ev := range []string{"update-status", "config-changed", "upgrade-charm", "mirrormaker-pebble-ready"} {
		h.everywhere(ev, nil)
	}
	for _, u := range h.m.Units {
		w := h.workloads[u]
		last := w.applied[len(w.applied)-1]
		assert.Empty(t, last.Pushed, u)
		assert.False(t, last.LayerChanged || last.Restarted || last.Started || last.Stopped, u)
		assert.Equal(t, 1, w.starts, u)
	}
}

func TestGivenMirroringWhenStopMigrationThenEveryUnitStopsAndCanResume(t *testing.T) {
	h := newHarness(t, 2)
	h.ready()
	h.action(h.unit(0), "start-migration", nil)
	h.peerChanged()
	a := h.action(h.unit(0), "stop-migration", nil)
	require.False(t, a.Failed, a.FailMessage)
	h.peerChanged()
	for _, u := range h.m.Units {
		assert.Equal(t, workload.StateInactive, h.workloads[u].state, u)
		assert.Equal(t, wantActive("migration stopped: run start-migration to resume"), h.status(u))
	}
	h.action(h.unit(0), "start-migration", nil)
	h.peerChanged()
	for _, u := range h.m.Units {
		assert.Equal(t, workload.StateActive, h.workloads[u].state, u)
	}
}

func TestGivenMirroringWhenTargetRelationBrokenThenStopsAndResumesOnRelate(t *testing.T) {
	h := newHarness(t, 2)
	_, target := h.ready()
	h.action(h.unit(0), "start-migration", nil)
	h.peerChanged()
	h.everywhere("target-relation-departed", target)
	target.Broken = true
	h.everywhere("target-relation-broken", target)
	h.m.RemoveRelation(target.ID)
	for _, u := range h.m.Units {
		assert.Equal(t, workload.StateInactive, h.workloads[u].state, u)
		assert.Equal(t, wantBlocked("missing target relation (mirroring paused until this is fixed)"), h.status(u))
	}
	h.relate("target", "kafka-k8s", h.providerAnswer("kafka-k8s-0.kafka-k8s-endpoints:9092", "tgt-Pa55word"))
	for _, u := range h.m.Units {
		assert.Equal(t, workload.StateActive, h.workloads[u].state, "%s resumes: the intent survived", u)
	}
	assert.Equal(t, wantActive("mirroring"), h.status(h.unit(1)))
}

func TestGivenMirroringWhenSecretRotatedThenRestartOnceWithNewPassword(t *testing.T) {
	h := newHarness(t, 1)
	source, _ := h.ready()
	h.action(h.unit(0), "start-migration", nil)
	uri := source.Data["kafka-old"]["secret-user"]
	require.NoError(t, h.m.UpdateSecret(uri, map[string]string{"username": "relation-9", "password": "rotated-Pa55"}))
	h.hook(h.unit(0), "secret-changed", nil, "")
	w := h.workloads[h.unit(0)]
	assert.Contains(t, string(w.files[mm2.SecretsPath].Content), "rotated-Pa55")
	assert.Equal(t, 2, w.starts, "one start, then exactly one restart for the new password")
	h.hook(h.unit(0), "update-status", nil, "")
	assert.Equal(t, 2, w.starts)
}

func TestGivenMirroringWhenConfigChangesThenRestartOnce(t *testing.T) {
	h := newHarness(t, 2)
	h.ready()
	h.action(h.unit(0), "start-migration", nil)
	h.peerChanged()
	h.m.Config["topics-exclude"] = "internal-.*"
	h.everywhere("config-changed", nil)
	for _, u := range h.m.Units {
		assert.Equal(t, 2, h.workloads[u].starts, u)
		assert.Contains(t, string(h.workloads[u].files[mm2.PropertiesPath].Content), "internal-.*")
	}
}

func TestGivenBadConfigWhenConfigChangedThenBlockedNamingOptionAndStopped(t *testing.T) {
	tests := []struct {
		option string
		value  any
		want   string
	}{
		{"tasks-max", float64(0), "invalid config: tasks-max: must be at least 1, got 0"},
		{"replication-policy", "mirror", `invalid config: replication-policy: want one of identity, prefix, got "mirror"`},
		{"topics", "orders-(", `invalid config: topics: "orders-(" is not a valid regular expression: missing closing )`},
		{"topics", " , ", "invalid config: topics: must name at least one pattern"},
		{"topics", "a${b}", `invalid config: topics: "a${b}" must not contain ${`},
		{"groups-exclude", "[abc", `invalid config: groups-exclude: "[abc" is not a valid regular expression: missing closing ]`},
		{"exactly-once", "yes", `invalid config: exactly-once: want one of disabled, preparing, enabled, got "yes"`},
		{"compression", "brotli", `invalid config: compression: want one of none, gzip, snappy, lz4, zstd, got "brotli"`},
		{"heap-size", "lots", `invalid config: heap-size: want a size such as 512M or 2G, got "lots"`},
		{"replication-factor", float64(0), "invalid config: replication-factor: want -1 (broker default) or at least 1, got 0"},
		{"source-alias", "old.one", `invalid config: source-alias: want letters, digits, _ or -, got "old.one"`},
		{"target-alias", "old", "invalid config: target-alias: must differ from source-alias"},
		{"log-level", "loud", `invalid config: log-level: want ERROR, WARN, INFO, DEBUG or TRACE, got "LOUD"`},
		{"source-bootstrap-servers", "nohost", `invalid config: source-bootstrap-servers: "nohost" is not host:port`},
	}
	for _, tt := range tests {
		t.Run(tt.option, func(t *testing.T) {
			h := newHarness(t, 1)
			h.ready()
			h.action(h.unit(0), "start-migration", nil)
			h.m.Config[tt.option] = tt.value
			h.hook(h.unit(0), "config-changed", nil, "")
			assert.Equal(t, wantBlocked(tt.want+" (mirroring paused until this is fixed)"), h.status(h.unit(0)))
			assert.Equal(t, workload.StateInactive, h.workloads[h.unit(0)].state)
		})
	}
}

// MM2 selects topics with Java's regular expressions and the charm proves them with Go's: a
// pattern only Java reads would leave the charm unable to measure once mirroring started, and
// one the two read differently would make it prove other topics than MM2 copies. Both are
// refused, naming the construct; the syntax both share is accepted.
func TestGivenARegexJavaAndGoReadDifferentlyWhenConfiguredThenBlockedNamingIt(t *testing.T) {
	for _, tc := range []struct{ pattern, want string }{
		{`(?!internal).*`, "a lookaround ((?!...)"},
		{`orders\d++`, "a possessive quantifier (++)"},
		{`orders.*+`, "a possessive quantifier (*+)"},
		{`[a-z&&[^x]]+`, "a class intersection (&&)"},
		{`[[a-c][x-z]]+`, "a class inside a class ([)"},
		{`[[:alpha:]]+`, "a class inside a class ([)"},
		{`(\w)\1`, "a back-reference (\\1)"},
		{`(?>a|ab)c`, "an atomic group ((?>...))"},
		{`\p{Lower}+`, "uses syntax the charm's proof (Go) does not read (invalid character class range"},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			h := newHarness(t, 1)
			h.ready()
			h.m.Config["topics"] = "orders, " + tc.pattern
			h.hook(h.unit(0), "config-changed", nil, "")
			st := h.status(h.unit(0))
			assert.Equal(t, "blocked", st.Name)
			assert.Contains(t, st.Message, fmt.Sprintf("invalid config: topics: %q ", tc.pattern))
			assert.Contains(t, st.Message, tc.want)
		})
	}
	h := newHarness(t, 1)
	h.ready()
	h.m.Config["topics"] = `orders-[0-9]+, (?i)PAY.*, []a-c]x, [^-.]+\.events, a{2,3}?b`
	h.hook(h.unit(0), "config-changed", nil, "")
	assert.Equal(t, wantActive("ready: run start-migration"), h.status(h.unit(0)), "the syntax both share")
}

func TestGivenExternalSourceWhenSecretGrantedThenReady(t *testing.T) {
	h := newHarness(t, 1)
	uri := h.m.AddSecret(map[string]string{"username": "admin", "password": "ext-Pa55word"})
	h.m.Config["source-bootstrap-servers"] = "10.1.1.1:9093,10.1.1.2:9093"
	h.m.Config["source-security-protocol"] = "SASL_SSL"
	h.m.Config["source-sasl-mechanism"] = "SCRAM-SHA-256"
	h.m.Config["source-credentials"] = uri
	h.relate("target", "kafka-k8s", h.providerAnswer("k:9092", "tgt"))
	assert.Equal(t, wantActive("ready: run start-migration"), h.status(h.unit(0)))
	props := string(h.workloads[h.unit(0)].files[mm2.PropertiesPath].Content)
	assert.Contains(t, props, "SCRAM-SHA-256")
	assert.Contains(t, props, "10.1.1.1:9093")
}

func TestGivenExternalSourceWhenSecretNotGrantedThenBlockedWithHint(t *testing.T) {
	h := newHarness(t, 1)
	uri := h.m.AddSecret(map[string]string{"username": "admin", "password": "ext"})
	h.m.Secret(uri).Denied = true
	h.m.Config["source-bootstrap-servers"] = "10.1.1.1:9093"
	h.m.Config["source-credentials"] = uri
	h.relate("target", "kafka-k8s", h.providerAnswer("k:9092", "tgt"))
	assert.Equal(t, wantBlocked("invalid config: source-credentials: cannot read the secret; grant it with "+
		"juju grant-secret <secret> mirrormaker-k8s"), h.status(h.unit(0)))
}

func TestGivenSourceRelationAndExternalConfigThenBlockedSayingWhichToRemove(t *testing.T) {
	h := newHarness(t, 1)
	h.ready()
	h.m.Config["source-bootstrap-servers"] = "10.1.1.1:9093"
	h.hook(h.unit(0), "config-changed", nil, "")
	st := h.status(h.unit(0))
	assert.Equal(t, "blocked", st.Name)
	assert.Contains(t, st.Message, "both a source relation and source-* config are set: remove one")
}

func TestGivenProviderDataErrorsThenBlockedNamingRelation(t *testing.T) {
	h := newHarness(t, 1)
	h.relate("source", "kafka-old", h.providerAnswer("old-0:9092", "pw"))
	h.relate("target", "kafka-k8s", map[string]string{"endpoints": "kafka-k8s-0", "username": "u", "password": "p"})
	assert.Equal(t, wantBlocked(`target relation: invalid endpoints: "kafka-k8s-0" is not host:port`), h.status(h.unit(0)))
}

func TestGivenTLSCABugWhenRelatedThenActiveWithWarning(t *testing.T) {
	h := newHarness(t, 1)
	h.relate("source", "kafka-old", h.providerAnswer("old-0:9092", "pw"))
	tls := h.m.AddSecret(map[string]string{"tls": "enabled", "tls-ca": "enabled"})
	answer := h.providerAnswer("k:9093", "tgt")
	answer["secret-tls"] = tls
	h.relate("target", "kafka-k8s", answer)
	assert.Equal(t, wantActive("ready: run start-migration (target tls-ca is not a PEM certificate; using the default trust store; a private CA goes in the target-tls-ca option)"),
		h.status(h.unit(0)))
}

// No password may reach logs, statuses, action results or a command line.
func TestGivenWholeLifecycleThenNoPasswordLeaks(t *testing.T) {
	h := newHarness(t, 2)
	source, target := h.ready()
	h.action(h.unit(0), "start-migration", map[string]any{"dry-run": true})
	h.action(h.unit(0), "start-migration", nil)
	h.peerChanged()
	h.m.Config["tasks-max"] = float64(0)
	h.everywhere("config-changed", nil)
	h.m.Config["tasks-max"] = float64(4)
	h.everywhere("config-changed", nil)
	target.Broken = true
	h.everywhere("target-relation-broken", target)
	h.m.RemoveRelation(target.ID)
	h.action(h.unit(0), "stop-migration", nil)
	_ = source

	var seen []string
	seen = append(seen, h.argv...)
	for _, l := range h.m.Logs {
		seen = append(seen, l.Message)
	}
	for _, s := range h.m.StatusHistory {
		seen = append(seen, s.Status.Message)
	}
	if h.m.Action != nil {
		for k, v := range h.m.Action.Results {
			seen = append(seen, k+"="+v)
		}
		seen = append(seen, h.m.Action.FailMessage)
	}
	require.NotEmpty(t, h.argv)
	for _, s := range seen {
		for _, pw := range []string{"src-Pa55word", "tgt-Pa55word"} {
			assert.NotContains(t, s, pw)
		}
	}
}

func wantBlocked(msg string) hookstest.Status {
	return hookstest.Status{Name: hooks.StatusBlocked, Message: msg}
}

func wantActive(msg string) hookstest.Status {
	return hookstest.Status{Name: hooks.StatusActive, Message: msg}
}

// The aliases and the policy name MM2's internal topics and the target topics: changed while a
// migration is under way, MM2 would start afresh under new names and copy everything again.
// The change blocks and pauses MM2 until it is set back, while mirroring or stopped.
func TestGivenAMigrationUnderWayWhenAliasOrPolicyChangesThenBlockedUntilSetBack(t *testing.T) {
	for _, tt := range []struct {
		option string
		value  any
		was    string
	}{
		{"source-alias", "legacy", "old"},
		{"target-alias", "k8s", "new"},
		{"replication-policy", "prefix", "identity"},
	} {
		t.Run(tt.option, func(t *testing.T) {
			h := newHarness(t, 1)
			h.ready()
			require.False(t, h.action(h.unit(0), "start-migration", nil).Failed)
			before := h.m.Config[tt.option]
			require.Equal(t, tt.was, before, "the harness's default")

			h.m.Config[tt.option] = tt.value
			h.hook(h.unit(0), "config-changed", nil, "")
			assert.Equal(t, wantBlocked(fmt.Sprintf("invalid config: %s: cannot change while a migration is under way "+
				"(it started with %q, which names MM2's internal and target topics): set it back, "+
				"or deploy a new application to migrate afresh (mirroring paused until this is fixed)", tt.option, tt.was)),
				h.status(h.unit(0)))
			assert.Equal(t, workload.StateInactive, h.workloads[h.unit(0)].state)

			h.m.Config[tt.option] = before
			h.hook(h.unit(0), "config-changed", nil, "")
			assert.Equal(t, workload.StateActive, h.workloads[h.unit(0)].state, "mirroring again once set back")
		})
	}
}

func TestGivenNoMigrationYetWhenAliasChangesThenAccepted(t *testing.T) {
	h := newHarness(t, 1)
	h.ready()
	h.m.Config["source-alias"] = "legacy"
	h.hook(h.unit(0), "config-changed", nil, "")
	assert.Equal(t, wantActive("ready: run start-migration"), h.status(h.unit(0)))
}
