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
	Side Side
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
func caHint(side Side, err error) string {
	var hostname x509.HostnameError
	if errors.As(err, &hostname) {
		return "its certificate does not name the address used: check the " + side.String() + "'s bootstrap servers"
	}
	return "give its CA with the " + side.Option("tls-ca") + " option"
}

func (e *ClusterError) Unwrap() error { return e.Err }

// KafkaProbe measures the migration over real connections, bounded by Timeout so that one
// unreachable cluster cannot hold a hook for long.
type KafkaProbe struct {
	Timeout time.Duration
	// BookPath is where the book of MM2's internal topics is kept between hooks, so that each
	// measurement reads only what MM2 wrote since the last; "" reads them whole every time.
	BookPath string
}

// probeTimeout bounds a whole measurement; Juju kills hooks only after much longer, but a
// status that arrives late is a status the operator does not see.
const probeTimeout = 45 * time.Second

// Measure dials both clusters and takes one sync view. An unreachable target still gives the
// source's figures; an unreachable source gives a *ClusterError.
func (p KafkaProbe) Measure(ctx context.Context, source, target mm2.Cluster, flow mm2.Flow) (migration.SyncView, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	src, err := kafka.Dial(ctx, source.Access)
	if err != nil {
		return migration.SyncView{}, &ClusterError{Side: Source, Err: err}
	}
	pair := &migration.Pair{Source: src, Book: loadBook(p.BookPath)}
	defer pair.Close()
	tgt, tgtErr := kafka.Dial(ctx, target.Access)
	if tgtErr == nil {
		pair.Target = tgt
	}
	view, err := pair.Measure(ctx, flow)
	_ = saveBook(p.BookPath, pair.Book) // a cache: the next read rebuilds what is lost
	if err != nil {
		return view, err
	}
	if tgtErr != nil {
		return view, &ClusterError{Side: Target, Err: tgtErr}
	}
	return view, nil
}

// Preflight checks both clusters before MM2 starts. A cluster that cannot be dialled is one
// more problem in the plan, so the user sees every problem at once.
func (p KafkaProbe) Preflight(ctx context.Context, source, target mm2.Cluster, opts migration.PreflightOptions) (migration.Plan, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	var dialProblems []migration.Problem
	dial := func(side Side, c mm2.Cluster) *kafka.Cluster {
		cl, err := kafka.Dial(ctx, c.Access)
		if err != nil {
			p := migration.DialProblem(side.String(), err)
			if kafka.CertificateUntrusted(err) {
				p.Reason = "TLS certificate not trusted (" + caHint(side, err) + "): " + err.Error()
			}
			dialProblems = append(dialProblems, p)
			return nil
		}
		return cl
	}
	pair := &migration.Pair{Source: dial(Source, source), Target: dial(Target, target)}
	defer pair.Close()
	if pair.Source == nil && pair.Target == nil {
		return migration.Plan{Problems: dialProblems}, nil
	}
	plan, err := pair.Preflight(ctx, opts)
	if err != nil {
		return plan, err
	}
	plan.Problems = append(dialProblems, plan.Problems...)
	return plan, nil
}

// Open dials both clusters for a cutover; either failing is a *ClusterError. The pair is the
// cutover's Session.
func (p KafkaProbe) Open(ctx context.Context, source, target mm2.Cluster) (Session, error) {
	dialCtx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	src, err := kafka.Dial(dialCtx, source.Access)
	if err != nil {
		return nil, &ClusterError{Side: Source, Err: err}
	}
	tgt, err := kafka.Dial(dialCtx, target.Access)
	if err != nil {
		src.Close()
		return nil, &ClusterError{Side: Target, Err: err}
	}
	return bookedPair{Pair: &migration.Pair{Source: src, Target: tgt, Book: loadBook(p.BookPath)}, path: p.BookPath}, nil
}

func (p KafkaProbe) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return probeTimeout
}

// isClusterError reports a measurement that failed because a cluster is unreachable.
func isClusterError(err error) (*ClusterError, bool) {
	var ce *ClusterError
	ok := errors.As(err, &ce)
	return ce, ok
}
