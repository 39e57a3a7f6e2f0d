// Package fakeloki is a Loki push endpoint for sandbox tests: it takes the
// pushes Pebble's log forwarding sends (internals/overlord/logstate/loki in
// canonical/pebble: POST of JSON streams, one per service, labelled with the
// layer's labels plus pebble_service, each value a [unix-nanos, line] pair,
// uncompressed) and keeps every line with its labels for assertions.
package fakeloki

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// PushPath is Loki's push API path, the one a loki_push_api provider
// publishes in its endpoint URL.
const PushPath = "/loki/api/v1/push"

// Entry is one log line and the time its sender gave it.
type Entry struct {
	Time time.Time
	Line string
}

// Stream is every line received under one label set, in arrival order.
type Stream struct {
	Labels  map[string]string
	Entries []Entry
}

// Request is what the server saw of one push besides its streams: the
// headers a test may check against Loki's expectations.
type Request struct {
	ContentType     string
	ContentEncoding string
	UserAgent       string
}

// Server is a running fake Loki on a loopback port.
type Server struct {
	srv      *http.Server
	url      string
	mu       sync.Mutex
	streams  []*Stream // label sets in order of first arrival
	requests []Request
}

// Start serves the push API on a free port of 127.0.0.1, which the
// sandbox's pods reach too: they have their own mounts, not their own
// network.
func Start() (*Server, error) { return StartOn("127.0.0.1") }

// StartOn is Start on a given loopback address, e.g. a simulated unit's.
func StartOn(host string) (*Server, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("cannot start fake loki: %w", err)
	}
	s := &Server{url: "http://" + l.Addr().String() + PushPath}
	mux := http.NewServeMux()
	mux.HandleFunc(PushPath, s.push)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// URL is the push URL, as Loki's provider publishes it.
func (s *Server) URL() string { return s.url }

// Close stops the server; what it received stays readable.
func (s *Server) Close() error { return s.srv.Close() }

// pushBody is Loki's JSON push body.
type pushBody struct {
	Streams []struct {
		Stream map[string]string `json:"stream"`
		Values [][]string        `json:"values"`
	} `json:"streams"`
}

// push answers as Loki does: 204 when stored, 400 for a body it cannot
// use, 415 for the protobuf (snappy) encoding, which this fake lacks.
func (s *Server) push(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		http.Error(w, fmt.Sprintf("unsupported content type %q: this fake takes JSON only", ct), http.StatusUnsupportedMediaType)
		return
	}
	var body io.Reader = io.LimitReader(r.Body, 64<<20)
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(body)
		if err != nil {
			http.Error(w, "cannot read gzip body: "+err.Error(), http.StatusBadRequest)
			return
		}
		defer gz.Close()
		body = gz
	}
	var req pushBody
	if err := json.NewDecoder(body).Decode(&req); err != nil {
		http.Error(w, "cannot parse push body: "+err.Error(), http.StatusBadRequest)
		return
	}
	type batch struct {
		labels  map[string]string
		entries []Entry
	}
	var batches []batch
	for _, st := range req.Streams {
		if len(st.Stream) == 0 {
			http.Error(w, "error at least one label pair is required per stream", http.StatusBadRequest)
			return
		}
		b := batch{labels: st.Stream}
		for _, v := range st.Values {
			if len(v) < 2 {
				http.Error(w, "a value needs a timestamp and a line", http.StatusBadRequest)
				return
			}
			ns, err := strconv.ParseInt(v[0], 10, 64)
			if err != nil {
				http.Error(w, "cannot parse timestamp "+strconv.Quote(v[0]), http.StatusBadRequest)
				return
			}
			b.entries = append(b.entries, Entry{Time: time.Unix(0, ns), Line: v[1]})
		}
		batches = append(batches, b)
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{ContentType: r.Header.Get("Content-Type"),
		ContentEncoding: r.Header.Get("Content-Encoding"), UserAgent: r.UserAgent()})
	for _, b := range batches {
		st := s.stream(b.labels)
		st.Entries = append(st.Entries, b.entries...)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// stream finds or adds the stream of labels; s.mu is held.
func (s *Server) stream(labels map[string]string) *Stream {
	for _, st := range s.streams {
		if maps.Equal(st.Labels, labels) {
			return st
		}
	}
	st := &Stream{Labels: maps.Clone(labels)}
	s.streams = append(s.streams, st)
	return st
}

// Streams is a copy of every stream received so far.
func (s *Server) Streams() []Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Stream, len(s.streams))
	for i, st := range s.streams {
		out[i] = Stream{Labels: maps.Clone(st.Labels), Entries: slices.Clone(st.Entries)}
	}
	return out
}

// Lines are the lines of every stream whose labels include all of filter
// (nil matches every stream), stream by stream in arrival order.
func (s *Server) Lines(filter map[string]string) []string {
	var out []string
	for _, st := range s.Streams() {
		if matches(st.Labels, filter) {
			for _, e := range st.Entries {
				out = append(out, e.Line)
			}
		}
	}
	return out
}

// Requests lists each accepted push's headers, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func matches(labels, filter map[string]string) bool {
	for k, v := range filter {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
