package charm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseConfig decodes every option before it validates any, yet reports problems option by
// option in config.yaml's order, a wrong type being that option's problem.
func TestParseConfigReportsTheFirstProblemInConfigOrder(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]any
		drop []string
		want string
	}{
		{name: "defaults"},
		{name: "wrong type", set: map[string]any{"tasks-max": "two"}, want: "invalid config: tasks-max: want an integer, got two"},
		{name: "fraction", set: map[string]any{"tasks-max": 1.5}, want: "invalid config: tasks-max: want an integer, got 1.5"},
		{name: "missing integer", drop: []string{"offset-lag-max"}, want: "invalid config: offset-lag-max: missing"},
		{name: "missing boolean", drop: []string{"sync-topic-acls"}, want: "invalid config: sync-topic-acls: want true or false, got <nil>"},
		{name: "string of the wrong type", set: map[string]any{"source-alias": 7.0}, want: "invalid config: source-alias: want a string, got 7"},
		{name: "a bad value before a bad type",
			set:  map[string]any{"replication-policy": "mirror", "heap-size": true},
			want: `invalid config: replication-policy: want one of identity, prefix, got "mirror"`},
		{name: "a bad type before a bad value",
			set:  map[string]any{"source-credentials": 1.0, "topics": ""},
			want: "invalid config: source-credentials: want a string, got 1"},
		{name: "aliases differ only when both are valid",
			set:  map[string]any{"source-alias": "a", "target-alias": "a", "tasks-max": 0.0},
			want: "invalid config: target-alias: must differ from source-alias"},
		{name: "heap-size unchecked after an earlier problem",
			set:  map[string]any{"tasks-max": 0.0, "heap-size": "lots"},
			want: "invalid config: tasks-max: must be at least 1, got 0"},
		{name: "log level upper-cased", set: map[string]any{"log-level": "loud"},
			want: `invalid config: log-level: want ERROR, WARN, INFO, DEBUG or TRACE, got "LOUD"`},
		{name: "endpoints", set: map[string]any{"source-bootstrap-servers": "host"},
			want: "invalid config: source-bootstrap-servers: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := configDefaults(t)
			for k, v := range tt.set {
				raw[k] = v
			}
			for _, k := range tt.drop {
				delete(raw, k)
			}
			cfg, err := parseConfig(raw)
			if tt.want == "" {
				require.NoError(t, err)
				assert.Equal(t, "INFO", cfg.settings.LogLevel)
				return
			}
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, tt.want, "invalid config: "+ce.Option+": ", "the error names its option")
		})
	}
}

func TestDecodeOptionsOnlyJudgesTypes(t *testing.T) {
	raw := configDefaults(t)
	raw["tasks-max"] = -5.0    // a valid integer, an invalid value: not decoding's business
	raw["topics"] = "orders-(" // likewise
	raw["sync-topic-acls"] = "yes"
	o := decodeOptions(raw)
	assert.Equal(t, -5, o.tasksMax)
	assert.Equal(t, "orders-(", o.topics)
	assert.Equal(t, map[string]string{"sync-topic-acls": "want true or false, got yes"}, o.typeErrs)
}
