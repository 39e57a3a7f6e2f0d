package cos

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// testTopology is the topology the promtool test files' series carry (alert_rules/tests).
var testTopology = Topology{
	Model:       "prod",
	ModelUUID:   "2a5b0a2f-9e4c-4a8b-b6d2-3f1c0e7d9a41",
	Application: "mm2",
	Unit:        "mm2/0",
	CharmName:   "mirrormaker-k8s",
}

// repoRoot is the nearest folder above the package holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for ; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if dir == filepath.Dir(dir) {
			t.Fatal("cannot find the repository root (go.mod)")
		}
	}
}

// promtoolBin is $PROMTOOL_BIN, else what `make prometheus` unpacks under .cache.
func promtoolBin(t *testing.T) string { return cachedBin(t, "PROMTOOL_BIN", "promtool") }

// cachedBin is $env, else the binary name that `make prometheus` unpacks under .cache. The test
// skips without it, and fails under $MM_REQUIRE_SANDBOX (CI), where a skip would hide that the
// rules went untested.
func cachedBin(t *testing.T, env, name string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = filepath.Join(repoRoot(t), ".cache", "prometheus", "usr", "bin", name)
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("MM_REQUIRE_SANDBOX") != "" {
			t.Fatalf("sandbox required: no %s at %s (make prometheus): %v", name, p, err)
		}
		t.Skipf("skipping: no %s at %s (make prometheus)", name, p)
	}
	return p
}

func runPromtool(t *testing.T, bin string, args ...string) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	require.NoError(t, err, "promtool %v:\n%s", args, out)
}

// publishedRules writes the alert_rules value the charm publishes to dir/mirrormaker.rules.yaml,
// as it is: JSON is YAML, and this is the file Prometheus gets.
func publishedRules(t *testing.T, dir string, injectExprs bool) string {
	t.Helper()
	rules, err := alertRules(testTopology, injectExprs)
	require.NoError(t, err)
	s, err := pyDumps(rules)
	require.NoError(t, err)
	p := filepath.Join(dir, "mirrormaker.rules.yaml")
	require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
	return p
}

// TestAlertRulesPromtool checks the rules with Prometheus' own tool, and runs the promtool tests
// (alert_rules/tests: every rule firing and not firing) on the rules as ScrapeAppData publishes
// them and as the checked-in file reads once cos-lib strips its placeholders without cos-tool
// (labels added, selectors as written). The tests under injected/ (another application's series)
// run on the published rules only: their topology matchers are what keeps those silent.
func TestAlertRulesPromtool(t *testing.T) {
	bin := promtoolBin(t)
	tests, err := filepath.Glob("alert_rules/tests/*.test.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, tests)
	injectedOnly, err := filepath.Glob("alert_rules/tests/injected/*.test.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, injectedOnly)

	for _, variant := range []struct {
		name   string
		inject bool
		tests  []string
	}{
		{"published", true, append(append([]string(nil), tests...), injectedOnly...)},
		{"checked-in", false, tests},
	} {
		t.Run(variant.name, func(t *testing.T) {
			dir := t.TempDir()
			rules := publishedRules(t, dir, variant.inject)
			runPromtool(t, bin, "check", "rules", rules)
			for _, src := range variant.tests {
				data, err := os.ReadFile(src)
				require.NoError(t, err)
				dst := filepath.Join(dir, filepath.Base(src))
				require.NoError(t, os.WriteFile(dst, data, 0o644))
				runPromtool(t, bin, "test", "rules", dst)
			}
		})
	}
}

// TestDashboardExprsPromtool has promtool parse every dashboard query, as recording rules in a
// temp file: Grafana's $__rate_interval becomes a duration, the topology variables are already
// valid inside their regex strings.
func TestDashboardExprsPromtool(t *testing.T) {
	bin := promtoolBin(t)
	exprs, err := dashboardExprs()
	require.NoError(t, err)
	var rules []any
	for i, e := range exprs {
		expr := strings.ReplaceAll(e.expr, "$__rate_interval", "5m")
		rules = append(rules, pyObject{{"record", fmt.Sprintf("dashboard:expr_%d", i)}, {"expr", expr}})
	}
	file, err := pyDumps(pyObject{{"groups", []any{pyObject{{"name", "dashboard"}, {"rules", rules}}}}})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "dashboard.rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte(file), 0o644))
	runPromtool(t, bin, "check", "rules", path)
}
