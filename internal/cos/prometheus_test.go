package cos

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// prometheusBin is $PROMETHEUS_BIN, else the one `make prometheus` unpacks beside promtool.
func prometheusBin(t *testing.T) string { return cachedBin(t, "PROMETHEUS_BIN", "prometheus") }

// TestPublishedExprsArePrometheusCanonical loads the published rules into a real Prometheus
// and compares each expression with the one its rules API prints: the Prometheus printer is
// what cos-tool's transform outputs, so equal strings mean the charm publishes the bytes an ops
// charm with cos-tool would (for this Prometheus' printer).
func TestPublishedExprsArePrometheusCanonical(t *testing.T) {
	bin := prometheusBin(t)
	dir := t.TempDir()
	rules := publishedRules(t, dir, true)
	config := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(config, []byte("rule_files: ["+rules+"]\n"), 0o644))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	log, err := os.Create(filepath.Join(dir, "prometheus.log"))
	require.NoError(t, err)
	defer log.Close()
	cmd := exec.Command(bin, "--config.file="+config, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = log, log
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	var api struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name  string `json:"name"`
					Query string `json:"query"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err = getJSON(fmt.Sprintf("http://%s/api/v1/rules", addr), &api)
		if err == nil && len(api.Data.Groups) > 0 {
			break
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(log.Name())
			t.Fatalf("prometheus did not serve its rules: %v\n%s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}

	published, err := alertRules(testTopology, true)
	require.NoError(t, err)
	want := map[string]string{}
	groups, _ := published.get("groups")
	for _, g := range groups.([]any) {
		rs, _ := g.(pyObject).get("rules")
		for _, r := range rs.([]any) {
			name, _ := r.(pyObject).get("alert")
			expr, _ := r.(pyObject).get("expr")
			want[name.(string)] = expr.(string)
		}
	}
	got := map[string]string{}
	for _, g := range api.Data.Groups {
		for _, r := range g.Rules {
			got[r.Name] = r.Query
		}
	}
	assert.Equal(t, want, got)
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
