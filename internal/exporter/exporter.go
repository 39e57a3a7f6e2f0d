package exporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"reflect"
	"sync"
	"time"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/migration"
)

// measureTimeout bounds one measurement; a slow cluster must not stop the page from being
// refreshed for long, and Prometheus would only see the old figures meanwhile.
const measureTimeout = 45 * time.Second

// Exporter measures on an interval and serves the last page. A scrape never talks to Kafka: it
// reads the page the last measurement left, so any number of Prometheus servers cost the
// clusters nothing more, and a measurement costs what the charm's status does,
// O(brokers + coordinators) requests, with MM2's internal topics read incrementally.
type Exporter struct {
	// ConfigPath is the charm's file (ConfigPath in the container).
	ConfigPath string
	// Logf reports what fails; it never receives a password (errors from Kafka clients name
	// brokers and causes only).
	Logf func(format string, args ...any)

	mu   sync.Mutex
	page []byte

	// Connections and MM2's book persist across measurements, so a round re-reads only what
	// MM2 wrote since the last.
	src, tgt       *kafka.Cluster
	srcAt, tgtAt   kafka.Access
	book           *migration.Book
	bookFor        string // bookKey of the target the book was read from
	last           *measurement
	lastGoodConfig *settings
}

// ServeHTTP serves /metrics (the last page) and /-/healthy.
func (e *Exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/metrics":
		e.mu.Lock()
		page := e.page
		e.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(page)
	case "/-/healthy":
		_, _ = w.Write([]byte("ok\n"))
	default:
		http.NotFound(w, r)
	}
}

// Round reads the configuration, measures when active, and replaces the page. It returns the
// time until the next round.
func (e *Exporter) Round(ctx context.Context) time.Duration {
	s, err := load(e.ConfigPath)
	if err != nil {
		if e.lastGoodConfig == nil {
			e.logf("%v", err)
			e.setPage(snapshot{})
			return DefaultInterval
		}
		// Keep measuring as last configured: the charm rewrites the file whole, and a read
		// between two writes must not blank the dashboards.
		e.logf("%v (measuring as last configured)", err)
		s = *e.lastGoodConfig
	}
	e.lastGoodConfig = &s
	snap := snapshot{cfg: s.Config}
	if s.Active {
		snap = e.measure(ctx, s)
	} else {
		e.closeClusters()
	}
	e.setPage(snap)
	return s.Interval()
}

// measure takes one view with the connections it keeps, dialling again a side whose access
// changed or whose connection failed. A round that cannot measure keeps the last view on the
// page, with its own timestamp, so dashboards keep their lines and a stale figure shows as stale.
func (e *Exporter) measure(ctx context.Context, s settings) snapshot {
	ctx, cancel := context.WithTimeout(ctx, measureTimeout)
	defer cancel()
	snap := snapshot{cfg: s.Config, up: map[string]bool{}}
	if e.last != nil {
		snap.measured, snap.view, snap.took, snap.requests = true, e.last.view, e.last.took, e.last.requests
	}
	if s.target == nil {
		e.closeTarget()
	}
	if s.source == nil {
		return snap
	}
	var err error
	if e.src, e.srcAt, err = e.dial(ctx, "source", e.src, e.srcAt, s.source); err != nil {
		snap.up["source"] = false
		return snap
	}
	snap.up["source"] = true
	if s.target != nil {
		if id := bookKey(*s.target); id != e.bookFor {
			e.book, e.bookFor = nil, id // MM2's internal topics of another cluster, or read as another user
		}
		e.tgt, e.tgtAt, err = e.dial(ctx, "target", e.tgt, e.tgtAt, s.target)
		snap.up["target"] = err == nil
	}
	if e.book == nil {
		e.book = &migration.Book{}
	}
	pair := &migration.Pair{Source: e.src, Book: e.book, TargetEnds: true}
	if snap.up["target"] {
		pair.Target = e.tgt
	}
	start := time.Now()
	view, err := pair.Measure(ctx, s.Flow)
	took := time.Since(start)
	requests := map[string]int{"source": sum(e.src.RequestsSent())}
	if pair.Target != nil {
		requests["target"] = sum(e.tgt.RequestsSent())
	}
	if err != nil {
		// The source could not even describe its topics: dial it again next round.
		e.logf("cannot measure: %v", err)
		e.src.Close()
		e.src = nil
		snap.up["source"] = false
		return snap
	}
	for _, ie := range view.Errors {
		if ie.Item == "target" && pair.Target != nil {
			snap.up["target"] = false
			e.closeTarget()
		}
	}
	e.last = &measurement{view: view, took: took, requests: requests}
	snap.measured, snap.view, snap.took, snap.requests = true, view, took, requests
	return snap
}

// measurement is the last view the exporter took, and what it cost.
type measurement struct {
	view     migration.SyncView
	took     time.Duration
	requests map[string]int
}

// bookKey names what a book of MM2's internal topics was read from: the target cluster, as one
// user (its password is no part of it).
func bookKey(a kafka.Access) string {
	return fmt.Sprintf("%v|%s|%s", a.BootstrapServers, a.SecurityProtocol, a.Username)
}

// dial returns the kept connection when the access is the same, else a new one.
func (e *Exporter) dial(ctx context.Context, side string, kept *kafka.Cluster, keptAt kafka.Access, want *kafka.Access) (*kafka.Cluster, kafka.Access, error) {
	if kept != nil && reflect.DeepEqual(keptAt, *want) {
		return kept, keptAt, nil
	}
	if kept != nil {
		kept.Close()
	}
	c, err := kafka.Dial(ctx, *want)
	if err != nil {
		e.logf("cannot reach the %s cluster: %v", side, err)
		return nil, kafka.Access{}, err
	}
	return c, *want, nil
}

func (e *Exporter) closeTarget() {
	if e.tgt != nil {
		e.tgt.Close()
		e.tgt = nil
	}
}

func (e *Exporter) closeClusters() {
	if e.src != nil {
		e.src.Close()
		e.src = nil
	}
	e.closeTarget()
	e.book, e.bookFor, e.last = nil, "", nil
}

func (e *Exporter) setPage(s snapshot) {
	var buf bytes.Buffer
	_ = write(&buf, families(s)) // a bytes.Buffer does not fail
	e.mu.Lock()
	e.page = buf.Bytes()
	e.mu.Unlock()
}

func (e *Exporter) logf(format string, args ...any) {
	if e.Logf != nil {
		e.Logf(format, args...)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Serve listens on addr and measures until ctx ends.
func (e *Exporter) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer e.closeClusters()
	e.logf("serving /metrics on %s; the charm's config is %s", ln.Addr(), e.ConfigPath)
	for {
		wait := e.Round(ctx)
		select {
		case <-ctx.Done():
			shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(shutdown)
			return nil
		case err := <-done:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return fmt.Errorf("cannot serve metrics: %w", err)
		case <-time.After(wait):
		}
	}
}

// Main runs the exporter: `mirrormaker-k8s export --listen ADDR [--config PATH]`.
func Main(ctx context.Context, args []string) error {
	listen := fmt.Sprintf(":%d", Port)
	path := ConfigPath
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "--listen" && i+1 < len(args):
			listen = args[i+1]
			i++
		case args[i] == "--config" && i+1 < len(args):
			path = args[i+1]
			i++
		default:
			return fmt.Errorf("cannot run the exporter: unknown argument %q (usage: export [--listen ADDR] [--config PATH])", args[i])
		}
	}
	e := &Exporter{ConfigPath: path, Logf: log.New(log.Writer(), "mm2-exporter: ", log.LstdFlags).Printf}
	return e.Serve(ctx, listen)
}
