package workload

import (
	"fmt"
	"strings"

	"github.com/canonical/pebble/client"
)

// maxLogLines bounds the task log lines a ChangeError carries: enough to see
// why MM2 did not start, short enough for a status message or hook log.
const maxLogLines = 10

// ChangeError is a Pebble change (start, stop, restart) that did not
// succeed. The charm can errors.As it to tell "MM2 failed to start" from
// "Pebble is unreachable", and Service to tell MM2 from its companion.
type ChangeError struct {
	// Service is the service the change was for: ServiceName or the
	// companion's name. Empty means ServiceName.
	Service string
	// Action is what was asked: "start", "stop" or "restart".
	Action string
	// ID is the Pebble change ID, for `pebble tasks <id>`; empty when the
	// companion's program could not be pushed, so no change was made.
	ID string
	// Err is Pebble's description of the failure, naming the failed tasks.
	Err string
	// Logs are the last lines logged by the failed tasks (including the
	// service's last output when it exited during start).
	Logs []string
}

func (e *ChangeError) Error() string {
	service := e.Service
	if service == "" {
		service = ServiceName
	}
	if e.ID == "" { // no change was made: the companion's program could not be pushed
		return fmt.Sprintf("cannot %s for %s: %s", e.Action, service, e.Err)
	}
	msg := fmt.Sprintf("cannot %s %s: change %s failed: %s", e.Action, service, e.ID, e.Err)
	if len(e.Logs) > 0 {
		msg += "\n" + strings.Join(e.Logs, "\n")
	}
	return msg
}

// ServiceState is MM2's Pebble service state, StateAbsent when the plan has no such service yet.
func (w *Workload) ServiceState() (ServiceState, error) {
	info, err := w.serviceInfo()
	if err != nil {
		return StateAbsent, err
	}
	return stateOf(info), nil
}

// Stop stops MM2 if it is active or backing off, and reports whether it did.
// The layer is left alone: the next Apply decides whether MM2 runs.
func (w *Workload) Stop() (bool, error) {
	info, err := w.serviceInfo()
	if err != nil || !stateOf(info).stoppable() {
		return false, err
	}
	return true, w.runChange(ServiceName, "stop", w.pebble.Stop)
}

// serviceInfo returns our service's info, or nil when the plan lacks it.
func (w *Workload) serviceInfo() (*client.ServiceInfo, error) {
	infos, err := w.servicesInfo([]string{ServiceName})
	return infos[ServiceName], err
}

// servicesInfo asks Pebble about the named services in one request, and
// returns their info by name; a service the plan lacks has none.
func (w *Workload) servicesInfo(names []string) (map[string]*client.ServiceInfo, error) {
	infos, err := w.pebble.Services(&client.ServicesOptions{Names: names})
	if err != nil {
		return nil, fmt.Errorf("cannot get %s service status: %w", strings.Join(names, ", "), notReady(err))
	}
	out := make(map[string]*client.ServiceInfo, len(names))
	for _, info := range infos {
		out[info.Name] = info
	}
	return out, nil
}

// runChange asks Pebble for one service action on one service, by name, and
// waits for the resulting change to finish. The container holds other
// services (the rock's own), which must never be touched.
func (w *Workload) runChange(service, action string, do func(*client.ServiceOptions) (string, error)) error {
	opts := &client.ServiceOptions{Names: []string{service}}
	id, err := do(opts)
	if err != nil {
		return fmt.Errorf("cannot %s %s: %w", action, service, notReady(err))
	}
	chg, err := w.pebble.WaitChange(id, &client.WaitChangeOptions{Timeout: w.changeTimeout()})
	if err != nil {
		return fmt.Errorf("cannot wait for %s of %s (change %s): %w", action, service, id, notReady(err))
	}
	if chg.Err != "" {
		return &ChangeError{Service: service, Action: action, ID: id, Err: chg.Err, Logs: failedTaskLogs(chg)}
	}
	if !chg.Ready {
		return &ChangeError{Service: service, Action: action, ID: id,
			Err: fmt.Sprintf("still %s after %s", chg.Status, w.changeTimeout())}
	}
	return nil
}

// failedTaskLogs collects the last log lines of the change's failed tasks.
func failedTaskLogs(chg *client.Change) []string {
	var logs []string
	for _, t := range chg.Tasks {
		if t.Status == "Error" {
			logs = append(logs, t.Log...)
		}
	}
	if len(logs) > maxLogLines {
		logs = logs[len(logs)-maxLogLines:]
	}
	return logs
}
