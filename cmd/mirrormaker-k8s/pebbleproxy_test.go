package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// pebbleProxy stands in a pod's Pebble socket for one dispatch and counts what reaches it: the
// real socket is moved aside, the proxy listens where it was (the pod sees the same folder
// through its bind mount) and forwards every request to it.
type pebbleProxy struct {
	b                  *testing.B
	socket, real       string
	srv                *http.Server
	requests, connects atomic.Int64
}

// proxyPebble puts a counting proxy on the Pebble socket of the pod in podDir.
func proxyPebble(b *testing.B, podDir string) *pebbleProxy {
	b.Helper()
	socket := filepath.Join(podDir, "charm-root", "containers", "mirrormaker", "pebble.socket")
	p := &pebbleProxy{b: b, socket: socket, real: socket + ".real"}
	if err := os.Rename(socket, p.real); err != nil {
		b.Fatalf("cannot move Pebble's socket aside: %v", err)
	}
	// A socket's path must fit in 108 bytes, and the pod's is longer: listen at a short path and
	// move the socket into place, and reach the real one through a short symlink.
	short, err := os.MkdirTemp("", "px")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = os.RemoveAll(short) })
	l, err := net.Listen("unix", filepath.Join(short, "s"))
	if err == nil {
		l.(*net.UnixListener).SetUnlinkOnClose(false)
		err = errors.Join(os.Rename(filepath.Join(short, "s"), socket), os.Symlink(p.real, filepath.Join(short, "r")))
	}
	if err != nil {
		_ = os.Rename(p.real, socket)
		b.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: "pebble"})
	rp.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(short, "r"))
	}}
	p.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.requests.Add(1)
			rp.ServeHTTP(w, r)
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				p.connects.Add(1)
			}
		},
	}
	go func() { _ = p.srv.Serve(l) }()
	return p
}

// close puts the real socket back and returns what was counted.
func (p *pebbleProxy) close() (requests, connects int) {
	p.b.Helper()
	_ = p.srv.Close()
	_ = os.Remove(p.socket)
	if err := os.Rename(p.real, p.socket); err != nil {
		p.b.Fatalf("cannot put Pebble's socket back: %v", err)
	}
	return int(p.requests.Load()), int(p.connects.Load())
}
