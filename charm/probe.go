package charm

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/migration"
	"mirrormaker-k8s/internal/mm2"
)

// Kafka is what the charm asks of both clusters. KafkaProbe connects for real; tests use a fake.
// Nothing connects until a method is called, so hooks that do not measure stay fast.
type Kafka interface {
	Measure(ctx context.Context, source, target mm2.Cluster, flow mm2.Flow) (migration.SyncView, error)
	Preflight(ctx context.Context, source, target mm2.Cluster, opts migration.PreflightOptions) (migration.Plan, error)
	Open(ctx context.Context, source, target mm2.Cluster) (Session, error)
}

// ClusterError says which cluster could not be reached, for the status line.
type ClusterError struct {
	Side string // "source" or "target"
	Err  error
}

func (e *ClusterError) Error() string {
	if kafka.CertificateUntrusted(e.Err) {
		// Not "unreachable": the cluster answered, and the fix is a CA, not a network. The
		// hint comes first because the status line is cut short.
		return fmt.Sprintf("%s cluster TLS certificate not trusted (%s): %v", e.Side, caHint(e.Side, e.Err), e.Err)
	}
	return fmt.Sprintf("%s cluster unreachable: %v", e.Side, e.Err)
}

// caHint tells what to fix: the address when the certificate does not name it (hostnames are
// always verified), else the CA the charm trusts for side.
func caHint(side string, err error) string {
	var hostname x509.HostnameError
	if errors.As(err, &hostname) {
		return "its certificate does not name the address used: check the " + side + "'s bootstrap servers"
	}
	return "give its CA with the " + side + "-tls-ca option"
}

func (e *ClusterError) Unwrap() error { return e.Err }

// KafkaProbe measures the migration over real connections, bounded by Timeout so that one
// unreachable cluster cannot hold a hook for long.
type KafkaProbe struct {
	Timeout time.Duration
}

// probeTimeout bounds a whole measurement; Juju kills hooks only after much longer, but a
// status that arrives late is a status the operator does not see.
const probeTimeout = 45 * time.Second

// Measure dials both clusters and takes one sync view. An unreachable target still gives the
// source's figures; an unreachable source gives a *ClusterError.
func (p KafkaProbe) Measure(ctx context.Context, source, target mm2.Cluster, flow mm2.Flow) (migration.SyncView, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	src, err := kafka.Dial(ctx, accessOf(source))
	if err != nil {
		return migration.SyncView{}, &ClusterError{Side: "source", Err: err}
	}
	defer src.Close()
	tgt, tgtErr := kafka.Dial(ctx, accessOf(target))
	if tgtErr == nil {
		defer tgt.Close()
	}
	view, err := migration.Measure(ctx, src, tgt, flow)
	if err != nil {
		return view, err
	}
	if tgtErr != nil {
		return view, &ClusterError{Side: "target", Err: tgtErr}
	}
	return view, nil
}

// Preflight checks both clusters before MM2 starts. A cluster that cannot be dialled is one
// more problem in the plan, so the user sees every problem at once.
func (p KafkaProbe) Preflight(ctx context.Context, source, target mm2.Cluster, opts migration.PreflightOptions) (migration.Plan, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	var dialProblems []migration.Problem
	dial := func(side string, c mm2.Cluster) *kafka.Cluster {
		cl, err := kafka.Dial(ctx, accessOf(c))
		if err != nil {
			p := migration.DialProblem(side, err)
			if kafka.CertificateUntrusted(err) {
				p.Reason = "TLS certificate not trusted (" + caHint(side, err) + "): " + err.Error()
			}
			dialProblems = append(dialProblems, p)
			return nil
		}
		return cl
	}
	src, tgt := dial("source", source), dial("target", target)
	for _, c := range []*kafka.Cluster{src, tgt} {
		if c != nil {
			defer c.Close()
		}
	}
	if src == nil && tgt == nil {
		return migration.Plan{Problems: dialProblems}, nil
	}
	plan, err := migration.Preflight(ctx, src, tgt, opts)
	if err != nil {
		return plan, err
	}
	plan.Problems = append(dialProblems, plan.Problems...)
	return plan, nil
}

func (p KafkaProbe) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return probeTimeout
}

func accessOf(c mm2.Cluster) kafka.Access {
	return kafka.Access{
		Bootstrap:        c.BootstrapServers,
		SecurityProtocol: c.SecurityProtocol,
		Mechanism:        c.Mechanism,
		Username:         c.Username,
		Password:         c.Password,
		CAPEM:            c.CA,
	}
}

// flowOf is the replication flow as the charm configured MM2, for measuring it.
func flowOf(cfg config) mm2.Flow {
	s := cfg.settings
	return mm2.Flow{
		SourceAlias:   cfg.sourceAlias,
		TargetAlias:   cfg.targetAlias,
		Prefix:        s.ReplicationPolicy == "prefix",
		ReadCommitted: true, // mm2.Render always sets the source consumer to read_committed
		Filter: mm2.Filter{
			Topics: s.Topics, TopicsExclude: s.TopicsExclude,
			Groups: s.Groups, GroupsExclude: s.GroupsExclude,
		},
	}
}

// isClusterError reports a measurement that failed because a cluster is unreachable.
func isClusterError(err error) (*ClusterError, bool) {
	var ce *ClusterError
	ok := errors.As(err, &ce)
	return ce, ok
}
