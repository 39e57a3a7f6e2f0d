package pods

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ProbeAlive is the kubelet's HTTP liveness probe of the pod's Pebble: GET
// /v1/health?level=alive, success being a 2xx or 3xx answer within timeout;
// otherwise the error says what failed. The sandbox reaches Pebble's API
// over its socket, where Juju's probe uses Pebble's --http port; the handler
// is the same.
func (p *Pod) ProbeAlive(ctx context.Context, timeout time.Duration) error {
	socket := p.socketPath()
	hc := &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
		DisableKeepAlives: true,
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost/v1/health?level=alive", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP %d %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// containerDirs are the pod folders that are the workload container's own
// filesystem, lost when Kubernetes restarts the container; the others
// (/charm, with Pebble's state) are pod volumes and survive. Files the
// charm pushed to /opt/mirrormaker-k8s are lost too: it pushes them again
// on pebble-ready.
var containerDirs = []string{"etc-kafka", "var-log-kafka", "opt-mirrormaker-k8s"}

// Restart restarts the workload container of the pod in opts.Dir as
// Kubernetes does after a failed liveness probe or an OOM kill: every process
// in old (nil when none runs) dies, what was written to the container's own
// filesystem is gone, and Pebble starts again from opts. It returns the new
// pod.
func Restart(ctx context.Context, old *Pod, opts Options) (*Pod, error) {
	if old != nil {
		_ = old.kill(10 * time.Second)
	}
	for _, sub := range containerDirs {
		if err := emptyDir(filepath.Join(opts.Dir, sub)); err != nil {
			return nil, fmt.Errorf("cannot empty the container's %s: %w", sub, err)
		}
	}
	return Start(ctx, opts)
}

// emptyDir removes everything in dir, keeping dir (a bind-mount source).
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
