// Package promserver runs a real Prometheus server for sandbox tests,
// configured from the charm's metrics-endpoint relation data the way the
// Prometheus charm configures its own (see config.go), so a test sees what
// an operator's Prometheus would scrape, label and alert on.
package promserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"mirrormaker-k8s/internal/sandbox/internal/freeport"
	"mirrormaker-k8s/internal/sandbox/internal/logtail"
	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/internal/repo"
)

// Interval is the scrape interval and timeout: the Prometheus charm scrapes
// every minute by default (10 s timeout), far too slow for a test to wait on.
// Jobs that set their own scrape_interval keep it. Not shorter: MM2's JMX
// exporter walks every MBean, which took over 2 s on two busy cores while
// MM2 started, and a scrape Prometheus abandons makes it log "Broken pipe"
// (TestMainScenario refuses that line in MM2's log).
const Interval = 5 * time.Second

// EvaluationInterval is how often rules are evaluated.
const EvaluationInterval = 2 * time.Second

// Server is one Prometheus process on loopback, with its config, rules and
// data under its own folder.
type Server struct {
	dir     string
	bin     string
	addr    string // host:port
	major   int    // Prometheus' major version
	cmd     *exec.Cmd
	exited  chan struct{}
	http    *http.Client
	logPath string
}

// Start runs the Prometheus at repo.PrometheusBin() in dir (created when
// missing) on a free loopback port, with the lifecycle API on for reloads
// and no scrape jobs yet, and returns once it is ready.
func Start(ctx context.Context, dir string) (*Server, error) {
	bin := repo.PrometheusBin()
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("cannot find prometheus (set PROMETHEUS_BIN or run make prometheus): %w", err)
	}
	major, err := version(ctx, bin)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		return nil, fmt.Errorf("cannot create prometheus dir: %w", err)
	}
	s := &Server{dir: dir, bin: bin, major: major, http: &http.Client{Timeout: 10 * time.Second},
		logPath: filepath.Join(dir, "prometheus.log")}
	if err := s.writeConfig(nil, nil); err != nil {
		return nil, err
	}
	// The port is free when picked but another process may take it before
	// Prometheus binds it: try again on a new one.
	for attempt := 0; ; attempt++ {
		err := s.launch(ctx)
		if err == nil {
			return s, nil
		}
		if attempt == 2 || !strings.Contains(logtail.Of(s.logPath, 5), "address already in use") {
			return nil, err
		}
	}
}

var versionLine = regexp.MustCompile(`prometheus, version (\d+)\.`)

// version is the binary's major version: Prometheus 3 needs the charm's
// fallback_scrape_protocol, 2 refuses it.
func version(ctx context.Context, bin string) (int, error) {
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("cannot run %s --version: %w: %s", bin, err, out)
	}
	m := versionLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("cannot parse prometheus version from %q", out)
	}
	return strconv.Atoi(string(m[1]))
}

func (s *Server) launch(ctx context.Context) error {
	port, err := freeport.Pick()
	if err != nil {
		return err
	}
	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("cannot open prometheus log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(s.bin,
		"--config.file="+s.configPath(),
		"--storage.tsdb.path="+filepath.Join(s.dir, "data"),
		"--web.listen-address="+s.addr,
		"--web.enable-lifecycle",
	)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Dies with the test process, even one killed by its timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start prometheus: %w", err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.exited) }()
	err = poll.Until(ctx, time.Minute, 50*time.Millisecond, func() (bool, error) {
		select {
		case <-s.exited:
			return false, errors.New("prometheus exited")
		default:
		}
		resp, err := s.http.Get(s.URL() + "/-/ready")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	}, "prometheus to be ready")
	if err != nil {
		s.kill()
		return s.fail("cannot start prometheus", err)
	}
	return nil
}

// URL is the server's base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return "http://" + s.addr }

// LogPath is Prometheus' own log, for a failing test's message.
func (s *Server) LogPath() string { return s.logPath }

func (s *Server) configPath() string { return filepath.Join(s.dir, "prometheus.yml") }

// fail wraps err with the end of Prometheus' log, which says why.
func (s *Server) fail(what string, err error) error {
	return fmt.Errorf("%s: %w\n%s", what, err, logtail.Of(s.logPath, 20))
}

// Configure makes Prometheus scrape and alert as the Prometheus charm would
// when related to an application whose metrics-endpoint app databag is
// appData and whose units' databags are units (keyed by unit name): it
// writes the config and rule files, reloads, and returns once the reload
// took and every job's targets are listed. The rule file is named for
// relation id 0: the id only tells one relation's file from another's.
func (s *Server) Configure(ctx context.Context, appData map[string]string, units map[string]map[string]string) error {
	jobs, err := ScrapeConfigs(appData, units)
	if err != nil {
		return fmt.Errorf("cannot configure prometheus: %w", err)
	}
	rules, err := RuleFiles(appData, units, 0)
	if err != nil {
		return fmt.Errorf("cannot configure prometheus: %w", err)
	}
	if err := s.writeConfig(jobs, rules); err != nil {
		return err
	}
	if err := s.reload(ctx); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, j := range jobs {
		for _, sc := range anySlice(j["static_configs"]) {
			static, _ := sc.(map[string]any)
			if len(anySlice(static["targets"])) > 0 {
				want[fmt.Sprint(j["job_name"])] = true
			}
		}
	}
	// Targets reach the scrape manager through discovery, which batches
	// updates (every 5s): wait until the pools are exactly the new jobs.
	return poll.Until(ctx, time.Minute, 100*time.Millisecond, func() (bool, error) {
		targets, err := s.Targets(ctx)
		if err != nil {
			return false, err
		}
		got := map[string]bool{}
		for _, t := range targets {
			got[t.Job] = true
		}
		return len(got) == len(want) && everyIn(want, got), nil
	}, "prometheus to list the new targets")
}

func everyIn(want, got map[string]bool) bool {
	for k := range want {
		if !got[k] {
			return false
		}
	}
	return true
}

// writeConfig writes prometheus.yml as the charm's _generate_prometheus_config
// lays it out (without its self-scrape job) and replaces the rule files.
func (s *Server) writeConfig(jobs []map[string]any, rules map[string]map[string]any) error {
	if s.major >= 3 {
		for _, j := range jobs {
			j["fallback_scrape_protocol"] = "PrometheusText0.0.4" // as the charm's consumer is built
		}
	}
	interval := Interval.String()
	cfg := map[string]any{
		"global": map[string]any{
			"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": EvaluationInterval.String(),
		},
		"rule_files":     []string{filepath.Join(s.dir, "rules", "juju_*.rules")},
		"scrape_configs": jobs,
	}
	if jobs == nil {
		cfg["scrape_configs"] = []any{}
	}
	old, err := filepath.Glob(filepath.Join(s.dir, "rules", "*.rules"))
	if err != nil {
		return fmt.Errorf("cannot list rule files: %w", err)
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("cannot remove rule file: %w", err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(rules)) {
		if err := writeYAML(filepath.Join(s.dir, "rules", name), rules[name]); err != nil {
			return err
		}
	}
	return writeYAML(s.configPath(), cfg)
}

func writeYAML(path string, v any) error {
	data, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("cannot encode %s: %w", filepath.Base(path), err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// reload asks Prometheus to load its config and rules again; Prometheus
// answers only once it has, with the reason when it refused them.
func (s *Server) reload(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/-/reload", nil)
	if err != nil {
		return fmt.Errorf("cannot reload prometheus: %w", err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return s.fail("cannot reload prometheus", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return s.fail("cannot reload prometheus", fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body))))
	}
	return nil
}

// Stop terminates Prometheus and waits for it to exit, killing it after
// ten seconds.
func (s *Server) Stop() error {
	if s.cmd == nil {
		return nil
	}
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
	}
	s.kill()
	return errors.New("cannot stop prometheus: it ignored SIGTERM for 10s; killed it")
}

func (s *Server) kill() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
}
