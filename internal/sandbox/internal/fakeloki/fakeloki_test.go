package fakeloki

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/logtail"
	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/internal/testenv"
)

func startLoki(t *testing.T) *Server {
	t.Helper()
	s, err := Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// layer runs a service that prints three lines and waits, with its logs
// forwarded to loki with a fixed label and one from its environment.
const layer = `summary: fakeloki test
services:
  talker:
    override: replace
    command: sh -c 'echo first line; echo second line; echo third line; exec sleep 600'
    startup: enabled
    environment:
      UNIT: mm/0
log-targets:
  loki/0:
    override: replace
    type: loki
    location: %s
    services: [all]
    labels:
      juju_application: mm
      juju_unit: $UNIT
`

func TestGivenPebbleForwardingToItWhenAServicePrintsThenLinesArriveWithTheLabels(t *testing.T) {
	testenv.SkipShort(t)
	loki := startLoki(t)
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "layers"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "layers", "001-test.yaml"),
		[]byte(strings.Replace(layer, "%s", loki.URL(), 1)), 0o644))
	logPath := filepath.Join(dir, "pebble.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	defer logFile.Close()
	cmd := exec.Command(testenv.Pebble(t), "run")
	cmd.Env = []string{"PEBBLE=" + dir, "PEBBLE_SOCKET=" + filepath.Join(dir, ".pebble.socket"), "PATH=" + os.Getenv("PATH")}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	want := []string{"first line", "second line", "third line"}
	err = poll.Until(context.Background(), 30*time.Second, 100*time.Millisecond, func() (bool, error) {
		return len(loki.Lines(nil)) >= len(want), nil
	}, "pebble to push the service's lines")
	require.NoError(t, err, logtail.Of(logPath, 20))

	streams := loki.Streams()
	require.Len(t, streams, 1)
	assert.Equal(t, map[string]string{"juju_application": "mm", "juju_unit": "mm/0", "pebble_service": "talker"},
		streams[0].Labels, "the layer's labels, $UNIT from the service's environment, and pebble_service")
	assert.Equal(t, want, loki.Lines(map[string]string{"pebble_service": "talker", "juju_unit": "mm/0"}))
	assert.Empty(t, loki.Lines(map[string]string{"pebble_service": "other"}))
	for _, e := range streams[0].Entries {
		assert.WithinDuration(t, time.Now(), e.Time, time.Minute)
	}
	req := loki.Requests()[0]
	assert.Equal(t, "application/json; charset=utf-8", req.ContentType)
	assert.Empty(t, req.ContentEncoding, "pebble does not compress")
	assert.True(t, strings.HasPrefix(req.UserAgent, "pebble/"), req.UserAgent)
}

func TestPushAnswersAsLoki(t *testing.T) {
	loki := startLoki(t)
	gz := func(s string) *bytes.Buffer {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write([]byte(s))
		_ = w.Close()
		return &b
	}
	tests := []struct {
		name, contentType, encoding string
		body                        *bytes.Buffer
		want                        int
	}{
		{"json", "application/json", "", bytes.NewBufferString(`{"streams":[{"stream":{"a":"b"},"values":[["1","x"]]}]}`), http.StatusNoContent},
		{"gzipped json", "application/json", "gzip", gz(`{"streams":[{"stream":{"a":"b"},"values":[["2","y"]]}]}`), http.StatusNoContent},
		{"protobuf", "application/x-protobuf", "", bytes.NewBufferString("x"), http.StatusUnsupportedMediaType},
		{"no labels", "application/json", "", bytes.NewBufferString(`{"streams":[{"stream":{},"values":[["1","x"]]}]}`), http.StatusBadRequest},
		{"bad timestamp", "application/json", "", bytes.NewBufferString(`{"streams":[{"stream":{"a":"b"},"values":[["now","x"]]}]}`), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, loki.URL(), tt.body)
			require.NoError(t, err)
			req.Header.Set("Content-Type", tt.contentType)
			if tt.encoding != "" {
				req.Header.Set("Content-Encoding", tt.encoding)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
		})
	}
	assert.Equal(t, []string{"x", "y"}, loki.Lines(map[string]string{"a": "b"}))
}
