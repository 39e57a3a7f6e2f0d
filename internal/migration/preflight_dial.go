package migration

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"

	"mirrormaker-k8s/internal/kafka"
)

// DialProblem turns Dial's error into the Problem start-migration reports
// for side ("source" or "target"), so that a cluster the charm cannot reach
// is listed with the other problems rather than ending the preflight. It
// tells the cases an operator fixes differently:
//   - "credentials rejected": a broker answered SASL_AUTHENTICATION_FAILED
//     (wrong username or password, or a user not yet created); sarama stops
//     at the first such answer rather than trying other brokers;
//   - the brokers do not offer the SASL mechanism;
//   - their TLS certificate is not trusted;
//   - "unreachable at host:port (cause), ...": every broker failed at the
//     TCP level (refused, timed out, unknown host), named by the addresses
//     sarama dialled; or nothing answered before ctx ended.
//
// Anything else is reported with Dial's message, which names the bootstrap
// servers and the user but never the password.
func DialProblem(side string, err error) Problem {
	p := Problem{Side: side, Item: "cluster"}
	var opErr *net.OpError
	switch {
	case err == nil:
		p.Reason = "cannot connect"
	case kafka.AuthenticationFailed(err):
		p.Reason = "credentials rejected: the brokers refused the username and password"
	case kafka.MechanismUnsupported(err):
		p.Reason = "credentials rejected: the brokers do not offer the SASL mechanism"
	case kafka.CertificateUntrusted(err):
		p.Reason = "TLS certificate not trusted: " + err.Error()
	case errors.As(err, &opErr):
		p.Reason = "unreachable at " + strings.Join(unreachable(err), ", ")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		p.Reason = "unreachable: no answer in time (" + err.Error() + ")"
	default:
		p.Reason = err.Error()
	}
	return p
}

// unreachable lists, in order and once each, every address in err's tree
// that failed to dial, with its cause: "127.0.0.1:1 (connect: connection
// refused)".
func unreachable(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		var op *net.OpError
		switch x := e.(type) {
		case nil:
			return
		case *net.OpError:
			op = x
		case interface{ Unwrap() []error }:
			for _, inner := range x.Unwrap() {
				walk(inner)
			}
			return
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
			return
		default:
			return
		}
		addr := ""
		var dns *net.DNSError
		switch {
		case op.Addr != nil:
			addr = op.Addr.String()
		case errors.As(op.Err, &dns):
			addr = dns.Name
		default:
			addr = "?"
		}
		entry := addr
		if op.Err != nil {
			entry += " (" + op.Err.Error() + ")"
		}
		if !slices.Contains(out, entry) {
			out = append(out, entry)
		}
	}
	walk(err)
	return out
}
