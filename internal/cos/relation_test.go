package cos

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/<name>.golden, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got+"\n"), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./internal/cos -update")
	assert.Equal(t, string(want), got+"\n", "%s changed: run go test ./internal/cos -update and review the diff", path)
}

func TestScrapeAppDataGolden(t *testing.T) {
	got, err := ScrapeAppData(testTopology)
	require.NoError(t, err)
	assert.Len(t, got, 3)
	for _, k := range []string{KeyScrapeJobs, KeyScrapeMetadata, KeyAlertRules} {
		golden(t, k, got[k])
	}
	again, err := ScrapeAppData(testTopology)
	require.NoError(t, err)
	assert.Equal(t, got, again, "same topology, same bytes")
}

func TestScrapeUnitData(t *testing.T) {
	assert.Equal(t, map[string]string{
		"prometheus_scrape_unit_address": "10.1.0.10",
		"prometheus_scrape_unit_name":    "mm2/0",
		"prometheus_scrape_unit_path":    "",
		"prometheus_scrape_unit_fqdn":    "",
	}, ScrapeUnitData("10.1.0.10", "mm2/0"))
}

func TestDashboardAppDataGolden(t *testing.T) {
	got, err := DashboardAppData(testTopology)
	require.NoError(t, err)
	assert.Len(t, got, 1)
	golden(t, KeyDashboards, got[KeyDashboards])
	again, err := DashboardAppData(testTopology)
	require.NoError(t, err)
	assert.Equal(t, got, again, "same topology, same bytes")

	other := testTopology
	other.Unit = "mm2/1"
	moved, err := DashboardAppData(other)
	require.NoError(t, err)
	assert.NotEqual(t, got, moved, "a new leader writes a new uuid, as the provider would")
}

// TestDashboardContentDecodes reads the content back as Grafana's side does: base64, xz, JSON;
// it is the checked-in dashboard with the provider's uid and charm tag.
func TestDashboardContentDecodes(t *testing.T) {
	got, err := DashboardAppData(testTopology)
	require.NoError(t, err)
	var data struct {
		Templates map[string]struct {
			Charm           string            `json:"charm"`
			Content         string            `json:"content"`
			JujuTopology    map[string]string `json:"juju_topology"`
			InjectDropdowns bool              `json:"inject_dropdowns"`
			AltUID          string            `json:"dashboard_alt_uid"`
		} `json:"templates"`
		UUID string `json:"uuid"`
	}
	require.NoError(t, json.Unmarshal([]byte(got[KeyDashboards]), &data))
	require.Contains(t, data.Templates, "file:mirrormaker")
	tmpl := data.Templates["file:mirrormaker"]
	assert.Equal(t, "mirrormaker-k8s", tmpl.Charm)
	assert.True(t, tmpl.InjectDropdowns)
	assert.Equal(t, map[string]string{"model": "prod", "model_uuid": testTopology.ModelUUID,
		"application": "mm2", "unit": "mm2/0"}, tmpl.JujuTopology)
	// hashlib.shake_256(b"mirrormaker-k8s-file:mirrormaker").hexdigest(8)
	assert.Equal(t, "c2483cab42ca0d37", tmpl.AltUID)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, data.UUID)

	compressed, err := base64.StdEncoding.DecodeString(tmpl.Content)
	require.NoError(t, err)
	r, err := xz.NewReader(bytes.NewReader(compressed))
	require.NoError(t, err)
	raw, err := io.ReadAll(r)
	require.NoError(t, err)
	var dash map[string]any
	require.NoError(t, json.Unmarshal(raw, &dash))
	// hashlib.shake_256(b"mirrormaker-k8s-internal/cos/dashboards/mirrormaker.json").hexdigest(20)
	assert.Equal(t, "f3ff7b532a5961273f5418a456297bbd1025a27a", dash["uid"])
	assert.Equal(t, []any{"kafka", "mirrormaker", "migration", "charm: mirrormaker-k8s"}, dash["tags"])
	var file map[string]any
	require.NoError(t, json.Unmarshal(DashboardFile, &file))
	file["uid"], file["tags"] = dash["uid"], dash["tags"]
	assert.Equal(t, file, dash)
}

// TestRelationDataIsWhatPythonWrites has Python read every value and dump it again: the bytes
// must not change (json.dumps' separators, key order, escapes), and the dashboard's content must
// decompress with Python's lzma, as Grafana's charm does. Skips without python3.
func TestRelationDataIsWhatPythonWrites(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 in PATH")
	}
	scrape, err := ScrapeAppData(testTopology)
	require.NoError(t, err)
	dash, err := DashboardAppData(testTopology)
	require.NoError(t, err)
	values := map[string]string{KeyDashboards: dash[KeyDashboards]}
	for k, v := range scrape {
		values[k] = v
	}
	in, err := json.Marshal(values)
	require.NoError(t, err)
	const script = `
import base64, json, lzma, sys
values = json.load(sys.stdin)
for key, value in values.items():
    assert json.dumps(json.loads(value)) == value, key
for tmpl in json.loads(values["dashboards"])["templates"].values():
    raw = lzma.decompress(base64.b64decode(tmpl["content"].encode("utf-8"))).decode()
    assert json.dumps(json.loads(raw)) == raw, "dashboard content"
print("ok")
`
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "ok\n", string(out))
}

func TestTopologyIsValidated(t *testing.T) {
	for name, mutate := range map[string]func(*Topology){
		"no model":       func(t *Topology) { t.Model = "" },
		"no application": func(t *Topology) { t.Application = "" },
		"uuid not v4":    func(t *Topology) { t.ModelUUID = "2a5b0a2f-9e4c-1a8b-b6d2-3f1c0e7d9a41" },
		"uuid uppercase": func(t *Topology) { t.ModelUUID = "2A5B0A2F-9E4C-4A8B-B6D2-3F1C0E7D9A41" },
	} {
		topo := testTopology
		mutate(&topo)
		_, err := ScrapeAppData(topo)
		assert.Error(t, err, name)
		_, err = DashboardAppData(topo)
		assert.Error(t, err, name)
	}
	noCharm := testTopology
	noCharm.CharmName = ""
	_, err := DashboardAppData(noCharm)
	assert.Error(t, err)
	scrape, err := ScrapeAppData(noCharm)
	require.NoError(t, err, "scrape data, like cos-lib's, leaves empty labels out")
	assert.NotContains(t, scrape[KeyAlertRules], "juju_charm")
}

// Group names carry the topology, sanitized: a model or application name with "-" becomes "_".
func TestAlertRuleGroupNames(t *testing.T) {
	topo := testTopology
	topo.Model, topo.Application = "my-model", "mm2-east"
	rules, err := alertRules(topo, true)
	require.NoError(t, err)
	groups, _ := rules.get("groups")
	var names []string
	for _, g := range groups.([]any) {
		n, _ := g.(pyObject).get("name")
		names = append(names, n.(string))
	}
	assert.Equal(t, []string{
		"my_model_2a5b0a2f_mm2_east_mirrormaker_workload_rules",
		"my_model_2a5b0a2f_mm2_east_mirrormaker_migration_rules",
	}, names)
}
