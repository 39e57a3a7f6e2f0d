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
	"sync"
	"syscall"
	"time"

	"mirrormaker-k8s/internal/sandbox/internal/logtail"

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

	logFlags []string // the JVM flags that select the logging config
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
	if err := o.complete(); err != nil {
		return nil, err
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
	c, err := layOut(d, o)
	if err != nil {
		return nil, err
	}
	outPath := filepath.Join(c.Dir, "broker.out")
	out, err := os.OpenFile(outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", outPath, err)
	}
	defer out.Close()
	if err := c.formatOnce(ctx, java, out, o.AdminPassword); err != nil {
		return nil, err
	}
	if err := c.start(java, out, o.Detached); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx); err != nil {
		c.Kill()
		return nil, err
	}
	return c, nil
}

// complete fills in o's defaults and refuses what StartCluster cannot run.
func (o *ClusterOptions) complete() error {
	if o.Dir == "" {
		return errors.New("cannot start cluster: no Dir")
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
		return errors.New("cannot start cluster: admin password must be alphanumeric")
	}
	return nil
}

// layOut prepares o.Dir for a broker (data dir, free ports, TLS listener,
// server.properties and logging configs) and returns the cluster it will be,
// not yet running.
func layOut(d KafkaDist, o ClusterOptions) (*Cluster, error) {
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
	c := &Cluster{
		Name:       o.Name,
		Bootstrap:  fmt.Sprintf("127.0.0.1:%d", port),
		Controller: fmt.Sprintf("127.0.0.1:%d", cport),
		Admin:      Credentials{Username: "admin", Password: o.AdminPassword},
		Dist:       d,
		Dir:        dir,
		exited:     make(chan struct{}),
	}
	extra := o.ServerProperties
	if o.TLS != nil {
		if extra, c.TLSBootstrap, c.TLSMisnamed, err = withTLSListener(o, port, cport); err != nil {
			return nil, fmt.Errorf("cannot start cluster %s: %w", o.Name, err)
		}
		c.CAPEM = o.TLS.Authority.CAPEM
	}
	if c.logFlags, err = writeBrokerFiles(dir, serverProperties(port, cport, dataDir, o.AdminPassword, extra)); err != nil {
		return nil, err
	}
	return c, nil
}

// jvm is the java command line that runs main from the dist's jars with the
// broker's JVM and logging flags.
func (c *Cluster) jvm(main string, args ...string) []string {
	a := append([]string{}, brokerJVMArgs...)
	a = append(a, c.logFlags...)
	a = append(a, "-cp", filepath.Join(c.Dist.libsDir(), "*"), main)
	return append(a, args...)
}

// formatOnce formats the node's storage with the admin user, unless it was
// formatted before: a restarted cluster (same Dir) keeps its data.
func (c *Cluster) formatOnce(ctx context.Context, java string, out *os.File, adminPassword string) error {
	if _, err := os.Stat(filepath.Join(c.Dir, "data", "meta.properties")); err == nil {
		return nil
	}
	format := exec.CommandContext(ctx, java, c.jvm("kafka.tools.StorageTool", "format",
		"-t", newClusterID(), "-c", filepath.Join(c.Dir, "server.properties"),
		"--add-scram", "SCRAM-SHA-512=[name=admin,password="+adminPassword+"]")...)
	format.Dir = c.Dir
	format.Stdout, format.Stderr = out, out
	format.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := format.Run(); err != nil {
		return fmt.Errorf("cannot format storage of %s: %w\n%s", c.Name, err, logtail.Of(out.Name(), 30))
	}
	return nil
}

// start starts the broker JVM in its own process group, writing to out. A
// detached broker outlives this process; otherwise the kernel kills it with
// its parent.
func (c *Cluster) start(java string, out *os.File, detached bool) error {
	c.cmd = exec.Command(java, c.jvm("kafka.Kafka", filepath.Join(c.Dir, "server.properties"))...)
	c.cmd.Dir = c.Dir
	c.cmd.Stdout, c.cmd.Stderr = out, out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if !detached {
		c.cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("cannot start broker %s: %w", c.Name, err)
	}
	c.Pid = c.cmd.Process.Pid
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	return nil
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
	chain, key, err := o.TLS.Authority.issue("127.0.0.1", "localhost")
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
			return fmt.Errorf("cannot start broker %s: exited early (%v)\n%s", c.Name, c.waitErr, c.logTail(40))
		case <-ctx.Done():
			return fmt.Errorf("cannot start broker %s: not ready in time (%v; last error: %v)\n%s",
				c.Name, ctx.Err(), lastErr, c.logTail(40))
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
