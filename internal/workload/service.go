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
// "Pebble is unreachable".
type ChangeError struct {
	// Action is what was asked: "start", "stop" or "restart".
	Action string
	// ID is the Pebble change ID, for `pebble tasks <id>`.
	ID string
	// Err is Pebble's description of the failure, naming the failed tasks.
	Err string
	// Logs are the last lines logged by the failed tasks (including the
	// service's last output when it exited during start).
	Logs []string
}

func (e *ChangeError) Error() string {
	msg := fmt.Sprintf("cannot %s %s: change %s failed: %s", e.Action, ServiceName, e.ID, e.Err)
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
	return true, w.runChange("stop", w.pebble.Stop)
}

// serviceInfo returns our service's info, or nil when the plan lacks it.
func (w *Workload) serviceInfo() (*client.ServiceInfo, error) {
	infos, err := w.pebble.Services(&client.ServicesOptions{Names: []string{ServiceName}})
	if err != nil {
		return nil, fmt.Errorf("cannot get %s service status: %w", ServiceName, notReady(err))
	}
	for _, info := range infos {
		if info.Name == ServiceName {
			return info, nil
		}
	}
	return nil, nil
}

// runChange asks Pebble for one service action on MM2, by name, and waits for
// the resulting change to finish. The container holds other services (the
// rock's own), which must never be touched.
func (w *Workload) runChange(action string, do func(*client.ServiceOptions) (string, error)) error {
	opts := &client.ServiceOptions{Names: []string{ServiceName}}
	id, err := do(opts)
	if err != nil {
		return fmt.Errorf("cannot %s %s: %w", action, ServiceName, notReady(err))
	}
	chg, err := w.pebble.WaitChange(id, &client.WaitChangeOptions{Timeout: w.changeTimeout()})
	if err != nil {
		return fmt.Errorf("cannot wait for %s of %s (change %s): %w", action, ServiceName, id, notReady(err))
	}
	if chg.Err != "" {
		return &ChangeError{Action: action, ID: id, Err: chg.Err, Logs: failedTaskLogs(chg)}
	}
	if !chg.Ready {
		return &ChangeError{Action: action, ID: id, Err: fmt.Sprintf("still %s after %s", chg.Status, w.changeTimeout())}
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
