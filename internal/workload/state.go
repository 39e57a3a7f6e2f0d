package workload

import "github.com/canonical/pebble/client"

// ServiceState is MM2's Pebble service state. It is typed so the charm branches on named states
// instead of comparing Pebble's words, and so the one place that knows those words is here. The
// value is Pebble's own word, which the charm also stores in its peer data: keep it that way.
type ServiceState string

// The states Pebble reports for a service, and StateAbsent for a plan without our service.
const (
	// StateAbsent is MM2 before its layer was ever added: no service to report on.
	StateAbsent ServiceState = ""
	// StateActive is MM2 running.
	StateActive = ServiceState(client.StatusActive)
	// StateBackoff is MM2 having exited, waiting for Pebble to start it again.
	StateBackoff = ServiceState(client.StatusBackoff)
	// StateError is MM2 having exited where Pebble will not restart it.
	StateError = ServiceState(client.StatusError)
	// StateInactive is MM2 stopped, or never started.
	StateInactive = ServiceState(client.StatusInactive)
)

// String is Pebble's word for the state, or "absent" when the plan has no MM2 service.
func (s ServiceState) String() string {
	if s == StateAbsent {
		return "absent"
	}
	return string(s)
}

// Running reports whether MM2 runs now.
func (s ServiceState) Running() bool { return s == StateActive }

// Failing reports whether MM2 was meant to run and exited: Pebble is restarting it (backoff) or
// has given up (error). Either way the user should read its logs.
func (s ServiceState) Failing() bool { return s == StateBackoff || s == StateError }

// stoppable reports whether a stop has anything to do: MM2 runs, or Pebble would start it again.
func (s ServiceState) stoppable() bool { return s == StateActive || s == StateBackoff }

// stateOf is the state of a service Pebble described, or StateAbsent without one.
func stateOf(info *client.ServiceInfo) ServiceState {
	if info == nil {
		return StateAbsent
	}
	return ServiceState(info.Current)
}
