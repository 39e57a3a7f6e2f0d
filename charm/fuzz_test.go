package charm

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
)

// FuzzConfig sets arbitrary values on the options users type by hand, over config.yaml's
// defaults: either parseConfig refuses, naming an option config.yaml has, or what it accepts
// renders (the charm never accepts a value MirrorMaker 2's files cannot hold, which would only
// be found when the files are written).
func FuzzConfig(f *testing.F) {
	f.Add(".*", "__.*", ".*", "connect-.*", "old", "new", "1G", "INFO", "h:9092", 4.0, 100.0)
	f.Add("(?!x).*", "a,,b", "", " ", "offset", "new", "0G", "loud", "host", 0.0, -1.0)
	f.Add("orders\x00", "${file:x}", "[a-z&&[^x]]", "\\", "a b", "a", "512m", "trace", "[::1]:1,", 1.5, 1e12)
	f.Fuzz(func(t *testing.T, topics, topicsExclude, groups, groupsExclude, srcAlias, tgtAlias, heap, logLevel, servers string, tasks, lagMax float64) {
		defaults := configDefaults(t)
		raw := map[string]any{}
		for k, v := range defaults {
			raw[k] = v
		}
		for k, v := range map[string]any{"topics": topics, "topics-exclude": topicsExclude, "groups": groups,
			"groups-exclude": groupsExclude, "source-alias": srcAlias, "target-alias": tgtAlias, "heap-size": heap,
			"log-level": logLevel, "source-bootstrap-servers": servers, "tasks-max": tasks, "offset-lag-max": lagMax} {
			raw[k] = v
		}
		cfg, err := parseConfig(raw)
		if err != nil {
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "not a ConfigError: %v", err)
			_, known := defaults[ce.Option]
			require.True(t, known, "names %q, not an option of config.yaml", ce.Option)
			return
		}
		access := func(alias, server string) mm2.Cluster {
			return mm2.Cluster{Alias: alias, Access: kafka.Access{BootstrapServers: []string{server},
				SecurityProtocol: kafka.SASLPlaintext, Mechanism: kafka.ScramSHA512, Username: "u", Password: "p"}}
		}
		_, err = mm2.Render(mm2.Input{Source: access(cfg.sourceAlias, "a:9092"), Target: access(cfg.targetAlias, "b:9092"),
			Settings: cfg.settings, UnitAddress: "10.1.0.11", Units: 1})
		require.NoError(t, err, "accepted by the config, refused by the renderer")
	})
}

// FuzzCutoverParams gives the cutover action arbitrary parameters: it either refuses naming a
// parameter of actions.yaml, or gets values it can use.
func FuzzCutoverParams(f *testing.F) {
	f.Add("consumers", "a,b", "10m", "10s", 1e6, false, true)
	f.Add("producers", " , ", "-1s", "0", 999.0, true, false)
	f.Add("both", "", "1h30", "5", 1e300, false, false)
	f.Add("consumers", "", "", "", 9e18, false, false) // whole, but its bytes would overflow
	f.Fuzz(func(t *testing.T, phase, groups, timeout, quiet string, scanLimit float64, keep, dry bool) {
		p, err := parseCutoverParams(map[string]any{"phase": phase, "groups": groups, "timeout": timeout,
			"quiet-period": quiet, "scan-limit": scanLimit, "keep-mirroring": keep, "dry-run": dry})
		if err != nil {
			param, _, _ := strings.Cut(err.Error(), ":")
			require.Contains(t, []string{"phase", "timeout", "quiet-period", "scan-limit"}, param, "names no parameter: %v", err)
			return
		}
		require.Contains(t, []string{"consumers", "producers"}, p.phase)
		require.Positive(t, p.timeout)
		require.Positive(t, p.quietPeriod)
		require.GreaterOrEqual(t, p.scanOffsets, int64(minScanOffsets))
		for _, g := range p.groups {
			require.NotEmpty(t, g)
		}
		if l := p.scanLimit(); l.Offsets > 0 {
			require.Positive(t, l.Bytes, "a limit of %d offsets overflows into %d bytes", l.Offsets, l.Bytes)
		}
	})
}
