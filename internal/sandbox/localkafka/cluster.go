package localkafka

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/IBM/sarama"
)

// ClusterOptions describe one sandbox Kafka cluster.
type ClusterOptions struct {
	// Name labels the cluster in errors and client ids ("old", "new").
	Name string
	// Dir holds everything of the cluster: server.properties, data/, logs/,
	// broker.out. Required; a test passes t.TempDir().
	Dir string
	// AdminPassword is the password of the "admin" user created at format
	// time; generated when empty. It must be alphanumeric: it is written into
	// a JAAS string and passed to the storage tool. Hostile passwords belong
	// to users made with CreateUser.
	AdminPassword string
	// ServerProperties override or add broker settings.
	ServerProperties map[string]string
	// StartTimeout bounds formatting plus startup; default 90 s (two JVMs on
	// two cores can be slow).
	StartTimeout time.Duration
	// Detached lets the broker outlive the process that started it (for a
	// long-lived demo). Otherwise the kernel kills the broker when its parent
	// dies, so a crashed test leaves no JVM behind.
	Detached bool
	// TLS, when set, adds a SASL_SSL listener (Cluster.TLSBootstrap) with a
	// certificate for 127.0.0.1 and localhost signed by TLS.Authority.
	TLS *ClusterTLS
}

// Cluster is one running single-node Kafka (KRaft combined mode) listening
// on 127.0.0.1 with SASL_PLAINTEXT SCRAM-SHA-512, started from a KafkaDist.
type Cluster struct {
	Name string
	// Bootstrap is the client address, 127.0.0.1:port.
	Bootstrap string
	// Controller is the PLAINTEXT KRaft controller address (loopback only).
	Controller string
	// TLSBootstrap is the SASL_SSL client address (host:port, the host as
	// ClusterTLS.Host says), or "" without TLS.
	TLSBootstrap string
	// TLSMisnamed is a second SASL_SSL address, on an IP the certificate does
	// not name: a client that checks names must refuse it.
	TLSMisnamed string
	// CAPEM is the CA that signed the SASL_SSL listener's certificate.
	CAPEM string
	// Admin is the user created at format time.
	Admin Credentials
	Dist  KafkaDist
	Dir   string
	// Pid is the broker JVM's pid (and process group id).
	Pid int

	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
	stopErr  error
}

// stopGrace is how long Stop lets the broker shut down cleanly before
// SIGKILL; a single node normally needs a few seconds.
const stopGrace = 30 * time.Second

var alnum = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// StartCluster formats a KRaft node in o.Dir and starts it, returning once a
// SCRAM-authenticated admin request succeeds. The broker runs in its own
// process group with output in Dir/broker.out; if it dies while starting the
// error carries the tail of that log.
//
// The admin password is on the argv of the short-lived storage-format
// process (--add-scram); that is acceptable only because it is a generated
// sandbox password. Every other secret goes through server.properties (0600)
// or the Kafka API.
func StartCluster(ctx context.Context, d KafkaDist, o ClusterOptions) (*Cluster, error) {
	if o.Dir == "" {
		return nil, errors.New("cannot start cluster: no Dir")
	}
	if o.Name == "" {
		o.Name = "kafka"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 90 * time.Second
	}
	if o.AdminPassword == "" {
		o.AdminPassword = randomAlnum(24)
	} else if !alnum.MatchString(o.AdminPassword) {
		return nil, errors.New("cannot start cluster: admin password must be alphanumeric")
	}
	if err := d.check(); err != nil {
		return nil, fmt.Errorf("cannot start cluster %s: %w", o.Name, err)
	}
	java, err := javaBin()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.StartTimeout)
	defer cancel()

	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("cannot start cluster %s: %w", o.Name, err)
	}
	dataDir := filepath.Join(dir, "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", dataDir, err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cport, err := freePort()
	if err != nil {
		return nil, err
	}
	extra := o.ServerProperties
	tlsBootstrap, misnamed := "", ""
	if o.TLS != nil {
		if extra, tlsBootstrap, misnamed, err = withTLSListener(o, port, cport); err != nil {
			return nil, fmt.Errorf("cannot start cluster %s: %w", o.Name, err)
		}
	}
	logFlags, err := writeBrokerFiles(dir, serverProperties(port, cport, dataDir, o.AdminPassword, extra))
	if err != nil {
		return nil, err
	}
	outPath := filepath.Join(dir, "broker.out")
	out, err := os.OpenFile(outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", outPath, err)
	}
	defer out.Close()

	c := &Cluster{
		Name:         o.Name,
		Bootstrap:    fmt.Sprintf("127.0.0.1:%d", port),
		Controller:   fmt.Sprintf("127.0.0.1:%d", cport),
		Admin:        Credentials{Username: "admin", Password: o.AdminPassword},
		TLSBootstrap: tlsBootstrap,
		TLSMisnamed:  misnamed,
		Dist:         d,
		Dir:          dir,
		exited:       make(chan struct{}),
	}
	if o.TLS != nil {
		c.CAPEM = o.TLS.Authority.CAPEM
	}
	jvm := func(main string, args ...string) []string {
		a := append([]string{}, brokerJVMArgs...)
		a = append(a, logFlags...)
		a = append(a, "-cp", filepath.Join(d.LibsDir(), "*"), main)
		return append(a, args...)
	}
	serverProps := filepath.Join(dir, "server.properties")

	// Format once: a restarted cluster (same Dir) keeps its data.
	if _, err := os.Stat(filepath.Join(dataDir, "meta.properties")); err != nil {
		format := exec.CommandContext(ctx, java, jvm("kafka.tools.StorageTool", "format",
			"-t", newClusterID(), "-c", serverProps,
			"--add-scram", "SCRAM-SHA-512=[name=admin,password="+o.AdminPassword+"]")...)
		format.Dir = dir
		format.Stdout, format.Stderr = out, out
		format.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := format.Run(); err != nil {
			return nil, fmt.Errorf("cannot format storage of %s: %w\n%s", o.Name, err, tailFile(outPath, 30))
		}
	}

	c.cmd = exec.Command(java, jvm("kafka.Kafka", serverProps)...)
	c.cmd.Dir = dir
	c.cmd.Stdout, c.cmd.Stderr = out, out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if !o.Detached {
		c.cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start broker %s: %w", o.Name, err)
	}
	c.Pid = c.cmd.Process.Pid
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()

	if err := c.waitReady(ctx); err != nil {
		c.Kill()
		return nil, err
	}
	return c, nil
}

// withTLSListener returns o's broker settings plus the SASL_SSL listeners
// on free ports (o.ServerProperties still win), and their addresses.
func withTLSListener(o ClusterOptions, port, cport int) (props map[string]string, bootstrap, misnamed string, err error) {
	sslPort, err := freePort()
	if err != nil {
		return nil, "", "", err
	}
	misnamedPort, err := freePort()
	if err != nil {
		return nil, "", "", err
	}
	host := o.TLS.Host
	if host == "" {
		host = "127.0.0.1"
	}
	chain, key, err := o.TLS.Authority.Issue("127.0.0.1", "localhost")
	if err != nil {
		return nil, "", "", err
	}
	props = tlsServerProperties(port, sslPort, misnamedPort, cport, o.AdminPassword, chain, key, host)
	for k, v := range o.ServerProperties {
		props[k] = v
	}
	return props, net.JoinHostPort(host, strconv.Itoa(sslPort)),
		net.JoinHostPort(misnamedHost, strconv.Itoa(misnamedPort)), nil
}

// waitReady asks the broker, as admin over SCRAM, to describe the cluster
// until it answers with itself as a broker and a controller.
func (c *Cluster) waitReady(ctx context.Context) error {
	var lastErr error
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		if lastErr = c.probe(); lastErr == nil {
			return nil
		}
		select {
		case <-c.exited:
			return fmt.Errorf("cannot start broker %s: exited early (%v)\n%s", c.Name, c.waitErr, c.LogTail(40))
		case <-ctx.Done():
			return fmt.Errorf("cannot start broker %s: not ready in time (%v; last error: %v)\n%s",
				c.Name, ctx.Err(), lastErr, c.LogTail(40))
		case <-tick.C:
		}
	}
}

func (c *Cluster) probe() error {
	cfg := c.Config(c.Admin)
	cfg.Net.DialTimeout = time.Second
	cfg.Metadata.Retry.Max = 0
	cfg.Admin.Retry.Max = 0
	a, err := sarama.NewClusterAdmin([]string{c.Bootstrap}, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	brokers, controller, err := a.DescribeCluster()
	if err != nil {
		return err
	}
	if len(brokers) == 0 || controller < 0 {
		return errors.New("no broker or controller yet")
	}
	return nil
}

// Exited is closed when the broker process has exited.
func (c *Cluster) Exited() <-chan struct{} { return c.exited }

// Stop shuts the broker down: SIGTERM to its process group, then SIGKILL if
// it is still there after a grace period. Safe to call twice, and after Kill.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.signalAndWait(syscall.SIGTERM, stopGrace) })
	return c.stopErr
}

// Kill SIGKILLs the broker's process group at once, as a crash would, and
// waits for it to be gone. A later Stop is a no-op.
func (c *Cluster) Kill() {
	c.stopOnce.Do(func() { c.stopErr = c.signalAndWait(syscall.SIGKILL, stopGrace) })
}

func (c *Cluster) signalAndWait(sig syscall.Signal, grace time.Duration) error {
	if c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	select {
	case <-c.exited:
		return nil
	default:
	}
	_ = syscall.Kill(-c.Pid, sig)
	select {
	case <-c.exited:
		return nil
	case <-time.After(grace):
	}
	_ = syscall.Kill(-c.Pid, syscall.SIGKILL)
	select {
	case <-c.exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("cannot stop broker %s (pid %d)", c.Name, c.Pid)
	}
}

// LogTail is the last n lines of Dir/broker.out, for error messages.
func (c *Cluster) LogTail(n int) string {
	return tailFile(filepath.Join(c.Dir, "broker.out"), n)
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "--- " + path + " (tail) ---\n" + strings.Join(lines, "\n")
}

// newClusterID is a Kafka cluster id: 16 random bytes, URL-safe base64
// without padding, as Uuid.randomUuid().toString(). Like Kafka, it never
// starts with '-', which the tool's argument parser would take for a flag.
func newClusterID() string {
	for {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		if id := base64.RawURLEncoding.EncodeToString(b); id[0] != '-' {
			return id
		}
	}
}

func randomAlnum(n int) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, n)
	for i := range out {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(letters))))
		out[i] = letters[k.Int64()]
	}
	return string(out)
}
