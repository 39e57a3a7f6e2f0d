package testenv

import (
	"archive/zip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeDispatch is a charm written in sh against the hook tools: it records
// what the tests check in the pod's private /etc/kafka and prints a line per
// event to hooks.log.
const fakeDispatch = `#!/bin/sh
set -e
ev="${JUJU_DISPATCH_PATH}"
echo "EVENT $ev remote=${JUJU_REMOTE_UNIT:-} departing=${JUJU_DEPARTING_UNIT:-}"
leader=$(is-leader --format=json)
case "$ev" in
hooks/install)
	env | sort > /etc/kafka/install.env
	[ -S /charm/containers/mirrormaker/pebble.socket ]
	;;
hooks/config-changed)
	config-get --format=json > /etc/kafka/config.json
	if [ "$(config-get --format=json fail)" = "true" ]; then echo "failing as asked" >&2; exit 3; fi
	;;
hooks/start)
	status-set active -- "started $(network-get cluster --bind-address)"
	;;
hooks/source-relation-created)
	if [ "$leader" = "true" ]; then
		echo '{"topic":"__mirrormaker-user","extra-user-roles":"admin"}' | relation-set --app --file -
	fi
	;;
hooks/source-relation-changed)
	relation-get --format=json --app - "$JUJU_REMOTE_APP" > /etc/kafka/source.json
	uri=$(relation-get --app secret-user "$JUJU_REMOTE_APP")
	[ -z "$uri" ] || secret-get --format=json "$uri" > /etc/kafka/source-secret.json
	chmod 600 /etc/kafka/source-secret.json 2>/dev/null || true
	;;
hooks/source-relation-broken)
	rm -f /etc/kafka/source.json /etc/kafka/source-secret.json
	;;
hooks/secret-changed)
	secret-get --refresh --format=json "$JUJU_SECRET_ID" > /etc/kafka/source-secret.json
	;;
actions/hello)
	name=$(action-get name)
	action-log "saying hello to $name"
	action-set greeting="hello $name" unit="$JUJU_UNIT_NAME"
	;;
hooks/metrics-endpoint-relation-created)
	relation-set "prometheus_scrape_unit_address=$(network-get metrics-endpoint --bind-address)" "prometheus_scrape_unit_name=$JUJU_UNIT_NAME"
	if [ "$leader" = "true" ]; then
		echo '{"scrape_jobs":"[{\"job_name\":\"fake\",\"static_configs\":[{\"targets\":[\"*:9099\"]}]}]"}' | relation-set --app --file -
	fi
	;;
hooks/logging-relation-changed)
	relation-get --format=json endpoint "$JUJU_REMOTE_UNIT" > /etc/kafka/loki.json
	;;
hooks/cluster-relation-changed)
	relation-get --format=json --app - "$JUJU_REMOTE_APP" > /etc/kafka/peer.json
	;;
actions/share)
	echo '{"phase":"mirroring"}' | relation-set -r "$(relation-ids cluster)" --app --file -
	;;
actions/refuse)
	action-fail "refused"
	;;
actions/hold)
	touch /etc/kafka/holding
	while [ ! -e /etc/kafka/release ]; do sleep 0.05; done
	rm -f /etc/kafka/release /etc/kafka/holding
	if echo '{"phase":"held"}' | relation-set -r "$(relation-ids cluster)" --app --file - 2>/dev/null; then shared=yes; else shared=refused; fi
	action-set held=yes leader="$(is-leader --format=json)" shared="$shared"
	;;
esac
`

const fakeMetadata = `name: mirrormaker-k8s
containers:
  mirrormaker:
    resource: mirrormaker-image
peers:
  cluster:
    interface: mirrormaker_peers
requires:
  source:
    interface: kafka_client
  target:
    interface: kafka_client
  logging:
    interface: loki_push_api
provides:
  metrics-endpoint:
    interface: prometheus_scrape
  grafana-dashboard:
    interface: grafana_dashboard
`

const fakeConfig = `options:
  topics:
    type: string
    default: ".*"
  tasks-max:
    type: int
    default: 1
  fail:
    type: boolean
    default: false
`

const fakeActions = `hello:
  params:
    name:
      type: string
      default: world
refuse: {}
share: {}
hold: {}
`

// FakeCharm packs the fake charm as a .charm zip in a temp dir and returns
// its path: a charm whose hooks are quick to run, for simulator tests that
// check Juju's side, not the real charm's.
func FakeCharm(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mirrormaker-k8s.charm")
	f, err := os.Create(path)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	for _, file := range []struct {
		name, body string
		mode       os.FileMode
	}{
		{"dispatch", fakeDispatch, 0o755},
		{"metadata.yaml", fakeMetadata, 0o644},
		{"config.yaml", fakeConfig, 0o644},
		{"actions.yaml", fakeActions, 0o644},
	} {
		h := &zip.FileHeader{Name: file.name, Method: zip.Deflate}
		h.SetMode(file.mode)
		w, err := zw.CreateHeader(h)
		require.NoError(t, err)
		_, err = w.Write([]byte(file.body))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
	return path
}
