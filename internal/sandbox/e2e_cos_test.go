package sandbox

import (
	"fmt"
	"testing"
	"time"

	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/workload"
)

// TestObservability relates the charm to a real Prometheus (configured from the relation data
// as the Prometheus charm does) and a Loki endpoint, and checks what an operator watching the
// migration there would rely on: the exporter's records behind is the clusters' truth, exact per
// partition; with MM2 stopped on a unit the MirrorMakerDown alert fires; logs arrive with the
// Juju topology; no password is anywhere COS looks.
func TestObservability(t *testing.T) {
	m := newMigration(t, 1, map[string]any{"metrics-interval": 5})
	o := m.relateCOS()
	const topic = "orders"
	m.mirrorPrefilled(topic, 3, 3000)
	unit := m.units()[0]

	o.waitValue(2*time.Minute, recordsBehind, func(v float64) bool { return v == 0 })

	// MM2 stops (as if it crashed for good) while the charm still wants it: records pile up.
	// Connect commits what it copied when it stops, so MM2's position is the target's end and
	// the figure must equal, per partition, the source's end minus the target's.
	_, err := m.pebble(unit).Stop(&client.ServiceOptions{Names: []string{workload.ServiceName}})
	require.NoError(t, err)
	require.NoError(t, poll.Until(m.ctx, time.Minute, time.Second, func() (bool, error) {
		return m.mm2PID(unit) == 0, nil
	}, "MM2 to stop"))
	require.NoError(t, m.src.Produce(topic, 1200))
	srcEnds, tgtEnds := mustEnds(t, m.src, topic), mustEnds(t, m.tgt, topic)
	var total int64
	for p, end := range srcEnds {
		want := end - tgtEnds[p]
		total += want
		o.waitValue(time.Minute, fmt.Sprintf(`mirrormaker_records_behind{topic=%q,partition="%d"}`, topic, p),
			func(v float64) bool { return v == float64(want) })
	}
	assert.Equal(t, int64(1200), total, "the records written since MM2 stopped")
	assert.Equal(t, float64(total), o.waitValue(time.Minute, recordsBehind, func(v float64) bool { return v == float64(total) }))
	for p, end := range srcEnds {
		got, ok := o.value(fmt.Sprintf(`mirrormaker_source_end_offset{topic=%q,partition="%d"}`, topic, p))
		assert.True(t, ok)
		assert.Equal(t, float64(end), got, "source end of partition %d", p)
		got, ok = o.value(fmt.Sprintf(`mirrormaker_target_end_offset{topic=%q,partition="%d"}`, topic, p))
		assert.True(t, ok)
		assert.Equal(t, float64(tgtEnds[p]), got, "target end of partition %d", p)
	}

	// The rule waits two minutes of MM2 down before it pages anyone.
	begin := time.Now()
	require.NoError(t, poll.Until(m.ctx, 4*time.Minute, 2*time.Second, func() (bool, error) {
		return o.firing("MirrorMakerDown")[unit], nil
	}, "the MirrorMakerDown alert to fire"), "alerts: %v", o.firing("MirrorMakerDown"))
	t.Logf("MirrorMakerDown fired %s after MM2 stopped", time.Since(begin).Round(time.Second))

	// The next hook starts MM2 again; it copies the rest and the alert resolves.
	m.waitMirroring()
	o.waitValue(2*time.Minute, recordsBehind, func(v float64) bool { return v == 0 })
	require.NoError(t, poll.Until(m.ctx, time.Minute, 2*time.Second, func() (bool, error) {
		return !o.firing("MirrorMakerDown")[unit], nil
	}, "the MirrorMakerDown alert to resolve"))

	t.Run("logs reach Loki with the Juju topology", func(t *testing.T) {
		labels := map[string]string{"juju_application": "mirrormaker-k8s", "juju_unit": unit, "juju_model": "migration",
			"charm": "mirrormaker-k8s", "pebble_service": workload.ServiceName}
		require.NoError(t, poll.Until(m.ctx, time.Minute, time.Second, func() (bool, error) {
			return len(o.loki.Lines(labels)) > 0, nil
		}, "MM2's log lines in Loki"))
		assert.NotEmpty(t, o.loki.Lines(map[string]string{"juju_unit": unit, "pebble_service": "mm2-exporter"}),
			"the exporter's log lines")
	})
	t.Run("no password in metrics, labels, logs or the exporter's command line", func(t *testing.T) {
		o.assertNoPasswordLeaks()
	})
}
