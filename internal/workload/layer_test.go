package workload

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// pebblePlan is a plan as Pebble 1.32 prints it after our layer: defaults
// filled in (threshold), fields we never set, and other layers' entries.
const pebblePlan = `services:
    mirrormaker:
        summary: MirrorMaker 2 replicating the source Kafka cluster into the target
        startup: enabled
        override: replace
        command: /opt/kafka/bin/connect-mirror-maker.sh /etc/kafka/mm2.properties
        environment:
            KAFKA_OPTS: '-javaagent:/opt/kafka/libs/jmx.jar=9101:/etc/kafka/jmx.yaml'
        on-failure: restart
        on-check-failure:
            mirrormaker-alive: restart
    other:
        override: replace
        command: /bin/true
checks:
    mirrormaker-alive:
        override: replace
        period: 30s
        timeout: 10s
        threshold: 3
        http:
            url: http://127.0.0.1:8083/
`

func TestLayerDiffers(t *testing.T) {
	s := Service{
		Command:     "/opt/kafka/bin/connect-mirror-maker.sh /etc/kafka/mm2.properties",
		Environment: map[string]string{"KAFKA_OPTS": "-javaagent:/opt/kafka/libs/jmx.jar=9101:/etc/kafka/jmx.yaml"},
		CheckURL:    "http://127.0.0.1:8083/",
	}
	tests := []struct {
		name         string
		plan         string
		service      Service
		running      bool
		serviceDiffs bool
		checkDiffs   bool
	}{
		{name: "same", plan: pebblePlan, service: s, running: true},
		{name: "empty plan", plan: "{}\n", service: s, running: true, serviceDiffs: true, checkDiffs: true},
		{name: "startup", plan: pebblePlan, service: with(s, func(s *Service) { s.CheckURL = "" }), running: false, serviceDiffs: true, checkDiffs: true},
		{name: "command", plan: pebblePlan, service: with(s, func(s *Service) { s.Command += " --clusters new" }), running: true, serviceDiffs: true},
		{name: "environment", plan: pebblePlan, service: with(s, func(s *Service) { s.Environment = map[string]string{"A": "b"} }), running: true, serviceDiffs: true},
		{name: "user", plan: pebblePlan, service: with(s, func(s *Service) { s.User = "kafka" }), running: true, serviceDiffs: true},
		{name: "check URL", plan: pebblePlan, service: with(s, func(s *Service) { s.CheckURL = "http://127.0.0.1:9/" }), running: true, checkDiffs: true},
		{name: "check removed", plan: pebblePlan, service: with(s, func(s *Service) { s.CheckURL = "" }), running: true, serviceDiffs: true, checkDiffs: true},
		{name: "stopped: the check is made inert", plan: pebblePlan, service: s, running: false, serviceDiffs: true, checkDiffs: true},
		{
			name:    "check already inert",
			plan:    "services:\n    mirrormaker: {override: replace, summary: MirrorMaker 2 replicating the source Kafka cluster into the target, command: c, startup: enabled, on-failure: restart}\nchecks:\n    mirrormaker-alive: {override: replace, period: 1h, threshold: 3, exec: {command: 'true'}}\n",
			service: Service{Command: "c"}, running: true,
		},
		{
			name:    "an earlier revision's alive-level check is replaced",
			plan:    strings.Replace(pebblePlan, "period: 30s", "level: alive\n        period: 30s", 1),
			service: s, running: true, checkDiffs: true,
		},
		{
			name:    "an earlier revision's disabled check is replaced",
			plan:    "services:\n    mirrormaker: {override: replace, summary: MirrorMaker 2 replicating the source Kafka cluster into the target, command: c, startup: enabled, on-failure: restart}\nchecks:\n    mirrormaker-alive: {override: replace, startup: disabled, period: 1h, exec: {command: 'true'}}\n",
			service: Service{Command: "c"}, running: true, checkDiffs: true,
		},
		{
			name:    "durations compare by value, defaults by meaning",
			plan:    "checks:\n    mirrormaker-alive: {override: replace, startup: enabled, period: 0.5m, timeout: 10000ms, http: {url: 'http://127.0.0.1:8083/'}}\n",
			service: s, running: true, serviceDiffs: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			current, err := parsePlan([]byte(tt.plan))
			require.NoError(t, err)
			want := desiredLayer(tt.service, tt.running, current.Checks[CheckName])
			svc, chk := layerDiffers(current, want)
			assert.Equal(t, tt.serviceDiffs, svc, "service differs")
			assert.Equal(t, tt.checkDiffs, chk, "check differs")
		})
	}
}

func TestDesiredLayerRoundTrips(t *testing.T) {
	for _, s := range []Service{
		{Command: "mm2", Environment: map[string]string{"Q": `it's "quoted": yes`, "ML": "a\nb"}},
		{Command: "mm2 --x", User: "kafka", Group: "kafka", CheckURL: "http://10.0.0.1:8083/"},
	} {
		want := desiredLayer(s, true, nil)
		out, err := yaml.Marshal(want)
		require.NoError(t, err)
		back, err := parsePlan(out)
		require.NoError(t, err)
		svc, chk := layerDiffers(back, want)
		assert.False(t, svc || chk, "layer differs from itself after a round trip:\n%s", out)
	}
}

func TestDesiredLayerWithoutCheck(t *testing.T) {
	l := desiredLayer(Service{Command: "mm2"}, false, nil)
	assert.Empty(t, l.Checks)
	assert.Empty(t, l.Services[ServiceName].OnCheckFailure)
	assert.Equal(t, "disabled", l.Services[ServiceName].Startup)

	l = desiredLayer(Service{Command: "mm2", CheckURL: "http://10.0.0.1:9101/-/healthy"}, false, nil)
	assert.Empty(t, l.Checks, "no check while MM2 is meant to be stopped")
	assert.Empty(t, l.Services[ServiceName].OnCheckFailure)

	l = desiredLayer(Service{Command: "mm2"}, true, &layerCheck{Level: "alive"})
	assert.Equal(t, inertCheck(), l.Checks[CheckName])
}

func TestParsePlanRejectsGarbage(t *testing.T) {
	_, err := parsePlan([]byte("services: [unclosed"))
	assert.ErrorContains(t, err, "cannot parse pebble plan")
}

func with(s Service, change func(*Service)) Service {
	change(&s)
	return s
}

// TestLayerFieldsOldestPebbleKnows renders every layer the charm can write and
// checks each check against what Juju's probes and Pebble v1.16 accept: no
// level (Juju wires alive/ready levels into Kubernetes probes that restart
// the container) and no startup field (unknown to Pebble before 1.19).
func TestLayerFieldsOldestPebbleKnows(t *testing.T) {
	old := &layerCheck{Level: "alive", Startup: "enabled", HTTP: &httpCheck{URL: "http://x/"}}
	for _, s := range []Service{{Command: "mm2"}, {Command: "mm2", CheckURL: "http://10.0.0.1:9101/-/healthy"}} {
		for _, running := range []bool{true, false} {
			for _, current := range []*layerCheck{nil, old, inertCheck()} {
				out, err := yaml.Marshal(desiredLayer(s, running, current))
				require.NoError(t, err)
				var raw struct {
					Checks map[string]map[string]any `yaml:"checks"`
				}
				require.NoError(t, yaml.Unmarshal(out, &raw))
				for name, chk := range raw.Checks {
					assert.NotContains(t, chk, "level", "check %s:\n%s", name, out)
					assert.NotContains(t, chk, "startup", "check %s:\n%s", name, out)
				}
			}
		}
	}
}

// MM2 gets time to stop its tasks and commit their offsets on SIGTERM: killed sooner, it
// copies again what it had copied since its last flush, and the target holds duplicates.
func TestDesiredLayerGivesMM2TimeToStopCleanly(t *testing.T) {
	for _, running := range []bool{true, false} {
		svc := desiredLayer(Service{Command: "mm2"}, running, nil).Services[ServiceName]
		assert.Equal(t, "30s", svc.KillDelay)
	}
}
