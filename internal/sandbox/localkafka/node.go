package localkafka

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"mirrormaker-k8s/internal/sandbox/internal/logtail"
)

// node is one KRaft combined-mode JVM of a cluster (broker and controller):
// its own directory (server.properties, data/, logs/, broker.out) and ports.
// A node outlives its processes: RestartNode stops one and starts the next
// on the same data.
type node struct {
	id       int
	dir      string
	addr     string   // the SASL_PLAINTEXT client address, 127.0.0.1:port
	logFlags []string // the JVM flags that select the logging config

	mu   sync.Mutex
	proc *process // nil until started
}

// process is one run of a node's JVM, in its own process group.
type process struct {
	cmd      *exec.Cmd
	pid      int
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
	stopErr  error
	// killed is set when the signal asked for did not end it within its grace
	// and SIGKILL did.
	killed bool
}

// jvm is the java command line that runs main from the dist's jars with the
// broker's JVM and logging flags.
func (n *node) jvm(d KafkaDist, main string, args ...string) []string {
	a := append([]string{}, brokerJVMArgs...)
	a = append(a, n.logFlags...)
	a = append(a, "-cp", filepath.Join(d.libsDir(), "*"), main)
	return append(a, args...)
}

func (n *node) outPath() string { return filepath.Join(n.dir, "broker.out") }

// formatOnce formats the node's storage with the cluster id and the admin
// user, unless it was formatted before: a restarted node keeps its data.
func (n *node) formatOnce(ctx context.Context, d KafkaDist, java, clusterID, adminPassword string) error {
	if _, err := os.Stat(filepath.Join(n.dir, "data", "meta.properties")); err == nil {
		return nil
	}
	out, err := n.openOut()
	if err != nil {
		return err
	}
	defer out.Close()
	format := exec.CommandContext(ctx, java, n.jvm(d, "kafka.tools.StorageTool", "format",
		"-t", clusterID, "-c", filepath.Join(n.dir, "server.properties"),
		"--add-scram", "SCRAM-SHA-512=[name=admin,password="+adminPassword+"]")...)
	format.Dir = n.dir
	format.Stdout, format.Stderr = out, out
	format.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := format.Run(); err != nil {
		return fmt.Errorf("cannot format storage of node %d: %w\n%s", n.id, err, logtail.Of(out.Name(), 30))
	}
	return nil
}

func (n *node) openOut() (*os.File, error) {
	out, err := os.OpenFile(n.outPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", n.outPath(), err)
	}
	return out, nil
}

// start starts the node's JVM in its own process group, appending to
// broker.out. A detached node outlives this process; otherwise the kernel
// kills it with its parent.
func (n *node) start(d KafkaDist, java string, detached bool) error {
	out, err := n.openOut()
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(java, n.jvm(d, "kafka.Kafka", filepath.Join(n.dir, "server.properties"))...)
	cmd.Dir = n.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if !detached {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start node %d: %w", n.id, err)
	}
	p := &process{cmd: cmd, pid: cmd.Process.Pid, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	n.mu.Lock()
	n.proc = p
	n.mu.Unlock()
	return nil
}

// running is the node's current process, nil if it never started.
func (n *node) running() *process {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc
}

// stop shuts the node's current process down with sig, then SIGKILL after
// grace; safe to call twice and on a node never started.
func (n *node) stop(sig syscall.Signal, grace time.Duration) error {
	p := n.running()
	if p == nil {
		return nil
	}
	p.stopOnce.Do(func() { p.stopErr = p.signalAndWait(sig, grace) })
	if p.stopErr != nil {
		return fmt.Errorf("cannot stop node %d: %w", n.id, p.stopErr)
	}
	return nil
}

// signal sends sig to the node's process group.
func (n *node) signal(sig syscall.Signal) error {
	p := n.running()
	if p == nil {
		return fmt.Errorf("cannot signal node %d: not started here", n.id)
	}
	if err := syscall.Kill(-p.pid, sig); err != nil {
		return fmt.Errorf("cannot signal node %d (pid %d): %w", n.id, p.pid, err)
	}
	return nil
}

func (p *process) signalAndWait(sig syscall.Signal, grace time.Duration) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = syscall.Kill(-p.pid, syscall.SIGCONT) // a frozen broker cannot act on SIGTERM
	_ = syscall.Kill(-p.pid, sig)
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
	}
	p.killed = sig != syscall.SIGKILL
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	select {
	case <-p.exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("pid %d still running after SIGKILL", p.pid)
	}
}
