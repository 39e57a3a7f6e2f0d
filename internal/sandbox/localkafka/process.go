package localkafka

import (
	"fmt"
	"path/filepath"
	"syscall"
	"time"

	"mirrormaker-k8s/internal/sandbox/internal/logtail"
)

// Stop shuts the broker down: SIGTERM to its process group, then SIGKILL if
// it is still there after a grace period. Safe to call twice, and after Kill.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.signalAndWait(syscall.SIGTERM, stopGrace) })
	return c.stopErr
}

// Freeze stops the broker's process group (SIGSTOP), as a hung JVM or a
// black-holed host looks to clients: the kernel still accepts connections on
// its port, and nothing ever answers on them. Thaw resumes it.
func (c *Cluster) Freeze() error { return c.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen broker (SIGCONT); a broker not frozen is unaffected.
func (c *Cluster) Thaw() error { return c.signal(syscall.SIGCONT) }

func (c *Cluster) signal(sig syscall.Signal) error {
	if c.cmd == nil || c.cmd.Process == nil {
		return fmt.Errorf("cannot signal broker %s: not started here", c.Name)
	}
	if err := syscall.Kill(-c.Pid, sig); err != nil {
		return fmt.Errorf("cannot signal broker %s (pid %d): %w", c.Name, c.Pid, err)
	}
	return nil
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
	_ = syscall.Kill(-c.Pid, syscall.SIGCONT) // a frozen broker cannot act on SIGTERM
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

// logTail is the last n lines of Dir/broker.out, for error messages.
func (c *Cluster) logTail(n int) string {
	return logtail.Of(filepath.Join(c.Dir, "broker.out"), n)
}
