package cos

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha3"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/ulikunitz/xz"
)

// DashboardFile is the Grafana dashboard, templated on the Juju topology: every query filters on
// $juju_model, $juju_model_uuid, $juju_application and $juju_unit and reads ${prometheusds}.
//
//go:embed dashboards/mirrormaker.json
var DashboardFile []byte

// dashboardPath names the dashboard in its uid, as cos-lib names a dashboard by its path in the
// charm: a Go charm embeds it, so this is its path in the source tree.
const dashboardPath = "internal/cos/dashboards/mirrormaker.json"

// dashboardID is the template's key: cos-lib's "file:<file stem>".
const dashboardID = "file:mirrormaker"

// KeyDashboards is the one app data key of the grafana_dashboard relation.
const KeyDashboards = "dashboards"

// DashboardAppData is the leader's app data on each grafana-dashboard (grafana_dashboard)
// relation, as grafana-k8s-operator's GrafanaDashboardProvider (lib LIBPATCH 48, with cosl's
// LZMABase64 and DashboardPath40UID) writes it: {"dashboards": json of {"templates": {id:
// {charm, content, juju_topology, inject_dropdowns, dashboard_alt_uid}}, "uuid"}}, the content
// being base64 of the xz-compressed dashboard JSON with the provider's uid and "charm: " tag.
//
// The provider's uuid is random, only there to make Juju see a change; here it is derived from
// the templates, so the same topology gives the same bytes and the charm writes on change only.
func DashboardAppData(t Topology) (map[string]string, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	if t.CharmName == "" {
		return nil, fmt.Errorf("cannot render the dashboard: the topology has no charm name")
	}
	content, err := dashboardContent(t.CharmName)
	if err != nil {
		return nil, err
	}
	templates := pyObject{{dashboardID, pyObject{
		{"charm", t.CharmName},
		{"content", content},
		{"juju_topology", pyObject{
			{"model", t.Model}, {"model_uuid", t.ModelUUID},
			{"application", t.Application}, {"unit", t.Unit},
		}},
		{"inject_dropdowns", true},
		{"dashboard_alt_uid", shake256Hex(t.CharmName+"-"+dashboardID, 8)},
	}}}
	tmpl, err := pyDumps(templates)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the dashboard templates: %w", err)
	}
	value, err := pyDumps(pyObject{{"templates", templates}, {"uuid", contentUUID(tmpl)}})
	if err != nil {
		return nil, fmt.Errorf("cannot encode the dashboard relation data: %w", err)
	}
	return map[string]string{KeyDashboards: value}, nil
}

// dashboardContent is the dashboard as the provider sends it: its uid replaced unless it is
// already a 40-hex one, "charm: <name>" appended to its tags unless one is there, dumped as
// Python's json.dumps would, xz-compressed and base64-encoded (cosl's LZMABase64.compress).
func dashboardContent(charm string) (string, error) {
	v, err := pyLoads(DashboardFile)
	if err != nil {
		return "", fmt.Errorf("cannot read the dashboard: %w", err)
	}
	dash, ok := v.(pyObject)
	if !ok {
		return "", fmt.Errorf("cannot read the dashboard: not a JSON object")
	}
	if uid, _ := dash.get("uid"); !isPath40UID(uid) {
		dash.set("uid", shake256Hex(charm+"-"+dashboardPath, 20))
	}
	tagsV, _ := dash.get("tags")
	tags, _ := tagsV.([]any)
	tagged := false
	for _, tag := range tags {
		if s, ok := tag.(string); ok && strings.HasPrefix(s, "charm: ") {
			tagged = true
		}
	}
	if !tagged {
		tags = append(tags, "charm: "+charm)
	}
	dash.set("tags", append([]any{}, tags...))
	raw, err := pyDumps(dash)
	if err != nil {
		return "", fmt.Errorf("cannot encode the dashboard: %w", err)
	}
	return lzmaBase64(raw)
}

// lzmaBase64 is cosl's LZMABase64.compress: an .xz stream (what Python's lzma.compress makes by
// default, CRC64 check) in standard base64. Grafana's side decompresses any .xz stream, so the
// compressed bytes need not match liblzma's; ulikunitz/xz is deterministic, which is what the
// charm needs.
func lzmaBase64(s string) (string, error) {
	var buf bytes.Buffer
	w, err := xz.WriterConfig{CheckSum: xz.CRC64}.NewWriter(&buf)
	if err != nil {
		return "", fmt.Errorf("cannot compress the dashboard: %w", err)
	}
	if _, err := w.Write([]byte(s)); err != nil {
		return "", fmt.Errorf("cannot compress the dashboard: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("cannot compress the dashboard: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// shake256Hex is Python's hashlib.shake_256(s.encode()).hexdigest(n), which cosl uses for
// dashboard uids.
func shake256Hex(s string, n int) string {
	return hex.EncodeToString(sha3.SumSHAKE256([]byte(s), n))
}

// isPath40UID is cosl's DashboardPath40UID.is_valid: 40 characters that unhexlify.
func isPath40UID(v any) bool {
	s, ok := v.(string)
	if !ok || len(s) != 40 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// contentUUID stands in for the provider's uuid4: a version 4 UUID made of a digest of the
// templates rather than of random bytes.
func contentUUID(s string) string {
	d := sha256.Sum256([]byte(s))
	d[6] = d[6]&0x0f | 0x40
	d[8] = d[8]&0x3f | 0x80
	h := hex.EncodeToString(d[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
