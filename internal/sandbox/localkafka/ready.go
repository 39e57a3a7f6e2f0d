package localkafka

import (
	"context"
	"fmt"
	"sort"
	"syscall"
	"time"

	"github.com/IBM/sarama"

	"mirrormaker-k8s/internal/sandbox/internal/logtail"
)

// waitReady polls, as admin over SCRAM, until the cluster describes every
// node as a broker and names a controller (asking only addrs, if given). A node that exits meanwhile ends
// the wait with the tail of its log.
func (c *Cluster) waitReady(ctx context.Context, addrs ...string) error {
	var lastErr error
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		if lastErr = c.probe(addrs); lastErr == nil {
			return nil
		}
		for _, n := range c.nodes {
			if p := n.running(); p != nil && p.hasExited() {
				return fmt.Errorf("cannot start cluster %s: node %d exited early (%v)\n%s",
					c.Name, n.id, p.waitErr, logtail.Of(n.outPath(), 40))
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cannot start cluster %s: not ready in time (%v; last error: %v)\n%s",
				c.Name, ctx.Err(), lastErr, logtail.Of(c.nodes[0].outPath(), 40))
		case <-tick.C:
		}
	}
}

func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// probe asks addrs (the cluster's Bootstrap when none) for the cluster's
// brokers and controller.
func (c *Cluster) probe(addrs []string) error {
	if len(addrs) == 0 {
		addrs = c.Addrs()
	}
	cfg := c.Config(c.Admin)
	cfg.Net.DialTimeout = time.Second
	cfg.Metadata.Retry.Max = 0
	cfg.Admin.Retry.Max = 0
	a, err := sarama.NewClusterAdmin(addrs, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	brokers, controller, err := a.DescribeCluster()
	if err != nil {
		return err
	}
	if len(brokers) < len(c.nodes) || controller < 0 {
		return fmt.Errorf("%d of %d brokers, controller %d", len(brokers), len(c.nodes), controller)
	}
	return nil
}

// RestartNode restarts node id (1 to Nodes) as one step of a rolling restart:
// sig to its JVM (SIGTERM: a controlled shutdown that first moves its
// leaderships to the other nodes; SIGKILL: a crash), the same node started
// again on its data, and a return only once every node is a broker again and
// every partition's ISR is whole (WaitInSync), so that the next node may go.
// A controlled shutdown that does not finish in a minute is an error: a
// rolling restart would be stuck there too.
func (c *Cluster) RestartNode(ctx context.Context, id int, sig syscall.Signal) error {
	if id < 1 || id > len(c.nodes) {
		return fmt.Errorf("cannot restart node %d of cluster %s: it has nodes 1 to %d", id, c.Name, len(c.nodes))
	}
	n := c.nodes[id-1]
	p := n.running()
	if p == nil {
		return fmt.Errorf("cannot restart node %d of cluster %s: not started here", id, c.Name)
	}
	if err := n.stop(sig, restartGrace); err != nil {
		return fmt.Errorf("cannot restart cluster %s: %w", c.Name, err)
	}
	if p.killed {
		return fmt.Errorf("cannot restart node %d of cluster %s: still running %s after %s (killed)\n%s",
			id, c.Name, restartGrace, sig, logtail.Of(n.outPath(), 40))
	}
	if err := n.start(c.Dist, c.java, false); err != nil {
		return fmt.Errorf("cannot restart cluster %s: %w", c.Name, err)
	}
	// The others may still list a crashed node as a broker (until its
	// session times out): ready is when the node itself answers.
	if err := c.waitReady(ctx, n.addr); err != nil {
		return err
	}
	return c.WaitInSync(ctx)
}

// restartGrace bounds a node's controlled shutdown in RestartNode: its
// leaderships move to the other nodes first, which takes seconds.
const restartGrace = 60 * time.Second

// WaitInSync polls until every partition of every topic (internal ones
// included) has all its replicas in sync, or ctx ends.
func (c *Cluster) WaitInSync(ctx context.Context) error {
	a, err := c.NewAdmin(c.Admin)
	if err != nil {
		return err
	}
	defer a.Close()
	var behind []string
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		behind, err = outOfSync(a)
		if err == nil && len(behind) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cannot see cluster %s in sync (%v): partitions short of replicas: %v; last error: %v",
				c.Name, ctx.Err(), behind, err)
		case <-tick.C:
		}
	}
}

// outOfSync names the partitions whose ISR is smaller than their replicas.
func outOfSync(a sarama.ClusterAdmin) ([]string, error) {
	topics, err := a.ListTopics()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(topics))
	for name := range topics {
		names = append(names, name)
	}
	sort.Strings(names)
	metas, err := a.DescribeTopics(names)
	if err != nil {
		return nil, err
	}
	var behind []string
	for _, t := range metas {
		if t.Err != sarama.ErrNoError {
			return nil, fmt.Errorf("topic %s: %w", t.Name, t.Err)
		}
		for _, p := range t.Partitions {
			if len(p.Isr) < len(p.Replicas) {
				behind = append(behind, fmt.Sprintf("%s-%d (isr %v of %v)", t.Name, p.ID, p.Isr, p.Replicas))
			}
		}
	}
	return behind, nil
}
