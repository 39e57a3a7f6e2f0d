package localkafka

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
)

// Stop shuts every node down at once: SIGTERM to each process group, then
// SIGKILL if one is still there after a grace period. Safe to call twice, and
// after Kill.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.eachNode(func(n *node) error { return n.stop(syscall.SIGTERM, stopGrace) }) })
	return c.stopErr
}

// Kill SIGKILLs every node's process group at once, as a crash would, and
// waits for them to be gone. A later Stop is a no-op.
func (c *Cluster) Kill() {
	c.stopOnce.Do(func() { c.stopErr = c.eachNode(func(n *node) error { return n.stop(syscall.SIGKILL, stopGrace) }) })
}

// Freeze stops every node's process group (SIGSTOP), as a hung JVM or a
// black-holed host looks to clients: the kernel still accepts connections on
// its ports, and nothing ever answers on them. Thaw resumes it.
func (c *Cluster) Freeze() error {
	return c.eachNode(func(n *node) error { return n.signal(syscall.SIGSTOP) })
}

// Thaw resumes a frozen cluster (SIGCONT); nodes not frozen are unaffected.
func (c *Cluster) Thaw() error {
	return c.eachNode(func(n *node) error { return n.signal(syscall.SIGCONT) })
}

// eachNode runs f on every node concurrently (so that a whole cluster stops
// within one grace period, not one per node) and joins the errors.
func (c *Cluster) eachNode(f func(*node) error) error {
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(n)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	return nil
}
