package charm

import (
	"crypto/x509"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/hooks"
	"mirrormaker-k8s/internal/mm2"
)

// catalogueCase is one status the catalogue builds, and the README form it must fit. Values
// given as "<name>" or "..." make the status read exactly as its form.
type catalogueCase struct {
	name string
	got  status
	kind string
	form string
}

func catalogueCases() []catalogueCase {
	placeholder := Side("<side>")
	unreachable := &ClusterError{Side: "<side>", Err: errors.New("...")}
	untrusted := &ClusterError{Side: "source", Err: x509.UnknownAuthorityError{}}
	line := status{hooks.StatusActive, "<sync line>"}
	behind := syncLine{topics: 3, partitions: 18, phase: phaseBehind, behind: 116_000, eta: "ETA 6m", groupsCounted: 3}
	inSync := syncLine{topics: 3, partitions: 18, phase: phaseInSync, groupsSynced: 3, groupsCounted: 3}
	unmeasured := behind
	unmeasured.unmeasured, unmeasured.firstError = 2, "cannot fetch offsets"
	down := inSync
	down.down = []string{"mirrormaker-k8s/1", "mirrormaker-k8s/2"}
	both := unmeasured
	both.down = down.down
	const (
		b = hooks.StatusBlocked
		w = hooks.StatusWaiting
		a = hooks.StatusActive
	)
	return []catalogueCase{
		{"no source", statusBlockedNoSource(), b, "missing source relation or source-* config"},
		{"no target", statusBlockedNoTarget(), b, "missing target relation"},
		{"two sources", statusBlockedTwoSources(), b, "both a source relation and source-* config are set: remove one (...)"},
		{"config", statusBlockedConfig("<option>", "<reason>"), b, "invalid config: <option>: <reason>"},
		{"relation data", statusBlockedRelationData(placeholder, errors.New("<problem>")), b, "<side> relation: <problem>"},
		{"render", statusBlockedRender(&mm2.InputError{Field: "<field>", Problem: "<problem>"}), b,
			"cannot render MirrorMaker 2 config: <field> <problem>"},
		{"pebble", statusWaitingForPebble(), w, "waiting for Pebble"},
		{"credentials", statusWaitingForCredentials(placeholder), w, "waiting for <side> credentials"},
		{"secret", statusWaitingForSecret(placeholder), w, "waiting for <side> credentials (secret not readable yet)"},
		{"mm2 failed", statusWaitingMM2Failed(), w,
			"MirrorMaker 2 failed and is being restarted (juju ssh --container mirrormaker <unit> pebble logs mirrormaker)"},
		{"unreachable", statusWaitingCluster(unreachable), w, "<side> cluster unreachable: ..."},
		{"untrusted", statusWaitingCluster(untrusted), w, "<side> cluster TLS certificate not trusted (...): ..."},
		{"measure", statusWaitingMeasure(errors.New("...")), w, "cannot measure the migration: ..."},
		{"target unreachable", statusWaitingTarget(unreachable, line), w, "<side> cluster unreachable: ...; <sync line>"},
		{"unmeasured", statusSync(unmeasured), w, "<sync line>; <n> unmeasured (...)"},
		{"down", statusSync(down), w, "<sync line>; MM2 down on <units>"},
		{"unmeasured and down", statusSync(both), w, "<sync line>; MM2 down on <units>"},
		{"starting", statusStarting(), hooks.StatusMaintenance, "starting MirrorMaker 2"},
		{"ready", statusReady(), a, "ready: run start-migration"},
		{"stopped", statusMigrationStopped(), a, "migration stopped: run start-migration to resume"},
		{"mirroring", statusMirroring(), a, "mirroring"},
		{"behind", statusSync(behind), a, "mirroring <n> topics/<n> partitions: ..."},
		{"lag unknown", statusSync(syncLine{topics: 1, partitions: 6, phase: phaseLagUnknown}), a,
			"mirroring <n> topics/<n> partitions: ..."},
		{"copy starting", statusSync(syncLine{topics: 1, partitions: 6, phase: phaseStarting, behind: 10}), a,
			"mirroring <n> topics/<n> partitions: ..."},
		{"in sync", statusSync(inSync), a, "in sync <n> topics/<n> partitions: 0 records behind; ..."},
		{"cutover", statusCutoverComplete("<endpoints>"), a, "cutover complete: clients may use <endpoints>"},
	}
}

// formPattern reads a README form as a pattern: <name> is some value, ... is any text.
func formPattern(form string) *regexp.Regexp {
	var b strings.Builder
	for i := 0; i < len(form); {
		switch {
		case strings.HasPrefix(form[i:], "..."):
			b.WriteString(".*")
			i += 3
		case form[i] == '<' && strings.IndexByte(form[i:], '>') > 1:
			b.WriteString(".+")
			i += strings.IndexByte(form[i:], '>') + 1
		default:
			b.WriteString(regexp.QuoteMeta(form[i : i+1]))
			i++
		}
	}
	return regexp.MustCompile("^" + b.String() + "$")
}

func TestStatusCatalogueFitsItsForms(t *testing.T) {
	for _, tt := range catalogueCases() {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.kind, tt.got.kind)
			assert.Regexp(t, formPattern(tt.form), tt.got.message)
		})
	}
}

// readmeStatuses is the list under "Statuses you will see" in README.md, as "kind: form".
func readmeStatuses(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(data), "Statuses you will see")
	require.True(t, ok, "README.md has no status list")
	section, _, _ = strings.Cut(section, "\n## ")
	item := regexp.MustCompile("(?m)^- `([a-z]+)`: `(.+)`$")
	var out []string
	for _, m := range item.FindAllStringSubmatch(section, -1) {
		out = append(out, m[1]+": "+m[2])
	}
	require.NotEmpty(t, out, "README.md's status list has no items")
	return out
}

// README.md lists what users see; the catalogue is what the charm sets. Each must hold the other.
func TestREADMEListsEveryStatus(t *testing.T) {
	readme := readmeStatuses(t)
	var catalogue []string
	for _, tt := range catalogueCases() {
		if f := tt.kind + ": " + tt.form; !slices.Contains(catalogue, f) {
			catalogue = append(catalogue, f)
		}
	}
	for _, f := range catalogue {
		assert.Contains(t, readme, f, "a status the charm sets is missing from README.md")
	}
	for _, f := range readme {
		assert.Contains(t, catalogue, f, "README.md lists a status the charm does not set")
	}
	data, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	assert.Contains(t, string(data), "`"+pausedSuffix+"`", "README.md names the paused suffix")
}

// Every constructor in statuses.go is in catalogueCases, so none escapes the README check.
func TestStatusCatalogueCasesCallEveryConstructor(t *testing.T) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "statuses.go", nil, 0)
	require.NoError(t, err)
	var constructors []string
	for _, d := range file.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "status") {
			constructors = append(constructors, fn.Name.Name)
		}
	}
	require.NotEmpty(t, constructors)
	tests, err := parser.ParseFile(fset, "statuses_test.go", nil, 0)
	require.NoError(t, err)
	called := map[string]bool{}
	ast.Inspect(tests, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if id, ok := call.Fun.(*ast.Ident); ok {
				called[id.Name] = true
			}
		}
		return true
	})
	for _, name := range constructors {
		assert.True(t, called[name], "%s is not in catalogueCases", name)
	}
}

func TestStatusWarnings(t *testing.T) {
	tests := []struct{ got, want string }{
		{warnRelationCA(Target, "tls-ca is not a PEM certificate; using the default trust store"),
			"target tls-ca is not a PEM certificate; using the default trust store; a private CA goes in the target-tls-ca option"},
		{warnCAWithoutTLS(Source), "source-tls-ca is set but the source cluster does not use TLS"},
		{warnExternalCAWithoutTLS(), "source-credentials has a tls-ca but source-security-protocol is SASL_PLAINTEXT"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.got)
	}
}

func TestStatusModifiers(t *testing.T) {
	tests := []struct {
		name string
		got  status
		want status
	}{
		{"paused", statusBlockedNoTarget().paused(),
			status{hooks.StatusBlocked, "missing target relation (mirroring paused until this is fixed)"}},
		{"no warnings", statusReady().withWarnings(nil), statusReady()},
		{"warnings", statusReady().withWarnings([]string{"a", "b"}), status{hooks.StatusActive, "ready: run start-migration (a; b)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
		})
	}
}
