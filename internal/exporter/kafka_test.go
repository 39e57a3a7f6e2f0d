package exporter

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// requireCluster starts a one-node sandbox cluster, skipping in -short or without Kafka unless
// $MM_REQUIRE_SANDBOX is set.
func requireCluster(t *testing.T) *localkafka.Cluster {
	t.Helper()
	if testing.Short() && os.Getenv("MM_REQUIRE_SANDBOX") == "" {
		t.Skip("skipping a test on a real broker in -short mode")
	}
	d, err := localkafka.FindKafkaDist()
	if err != nil {
		if os.Getenv("MM_REQUIRE_SANDBOX") != "" {
			t.Fatalf("sandbox required: %v", err)
		}
		t.Skipf("skipping: no Kafka for the sandbox: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := localkafka.StartCluster(ctx, d, localkafka.ClusterOptions{Name: "exporter", Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Stop()) })
	return c
}

// TestRoundsAgainstARealBroker plays one broker as both sides before MM2 has run: every record
// is behind. Then the target goes unreachable, then the source: what reached is said per
// cluster, and the last figures stay on the page with their own timestamp.
func TestRoundsAgainstARealBroker(t *testing.T) {
	c := requireCluster(t)
	k, err := localkafka.NewKit(c)
	require.NoError(t, err)
	defer k.Close()
	require.NoError(t, k.CreateTopic("orders", 3, nil))
	require.NoError(t, k.Produce("orders", 300))

	dir := t.TempDir()
	secrets := filepath.Join(dir, "mm2-secrets.properties")
	require.NoError(t, os.WriteFile(secrets, fmt.Appendf(nil, "old.password=%s\nnew.password=%s\n", c.Admin.Password, c.Admin.Password), 0o600))
	side := func(alias string, servers []string) *Cluster {
		return &Cluster{Alias: alias, BootstrapServers: servers, SecurityProtocol: kafka.SASLPlaintext,
			Mechanism: kafka.ScramSHA512, Username: c.Admin.Username}
	}
	cfg := Config{Active: true, Mirroring: true, SecretsPath: secrets, Source: side("old", c.Addrs()), Target: side("new", c.Addrs()),
		Flow: mm2.Flow{SourceAlias: "old", TargetAlias: "new", Filter: mm2.Filter{Topics: []string{"orders"}}}}
	path := filepath.Join(dir, "mm2-exporter.json")
	writeConfig(t, path, cfg)
	e := &Exporter{ConfigPath: path, Logf: t.Logf}
	defer e.closeClusters()

	e.Round(context.Background())
	page := serve(t, e)
	assert.Contains(t, page, `mirrormaker_cluster_up{cluster="source"} 1`)
	assert.Contains(t, page, `mirrormaker_cluster_up{cluster="target"} 1`)
	assert.Equal(t, 300.0, sumOf(t, page, "mirrormaker_records_behind"), "MM2 has copied nothing")
	assert.Equal(t, 300.0, sumOf(t, page, "mirrormaker_target_end_offset"), "the broker plays the target too")
	assert.NotContains(t, page, c.Admin.Password)

	cfg.Target = side("new", []string{"127.0.0.1:1"})
	writeConfig(t, path, cfg)
	e.Round(context.Background())
	page = serve(t, e)
	assert.Contains(t, page, `mirrormaker_cluster_up{cluster="source"} 1`)
	assert.Contains(t, page, `mirrormaker_cluster_up{cluster="target"} 0`)
	assert.Equal(t, 300.0, sumOf(t, page, "mirrormaker_source_end_offset"), "the source is still measured")
	measured := lineOf(page, "mirrormaker_last_measure_timestamp_seconds")
	require.NotEmpty(t, measured)

	cfg.Source = side("old", []string{"127.0.0.1:1"})
	writeConfig(t, path, cfg)
	e.Round(context.Background())
	page = serve(t, e)
	assert.Contains(t, page, `mirrormaker_cluster_up{cluster="source"} 0`)
	assert.NotContains(t, page, `mirrormaker_cluster_up{cluster="target"}`, "not tried without a source")
	assert.Equal(t, 300.0, sumOf(t, page, "mirrormaker_source_end_offset"), "the last figures stay")
	assert.Equal(t, measured, lineOf(page, "mirrormaker_last_measure_timestamp_seconds"), "when they were measured")
}

// sumOf adds up the samples of metric on page.
func sumOf(t *testing.T, page, metric string) float64 {
	t.Helper()
	var total float64
	for _, line := range strings.Split(page, "\n") {
		if strings.HasPrefix(line, metric+"{") || strings.HasPrefix(line, metric+" ") {
			var v float64
			_, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
			require.NoError(t, err, line)
			total += v
		}
	}
	return total
}

func lineOf(page, metric string) string {
	for _, line := range strings.Split(page, "\n") {
		if strings.HasPrefix(line, metric+" ") {
			return line
		}
	}
	return ""
}
