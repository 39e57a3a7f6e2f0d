package jujusim

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"mirrormaker-k8s/hooks/hookstest"
)

// UnitStatus is one unit's line of `juju status`.
type UnitStatus struct {
	Name     string
	Leader   bool
	Address  string
	Workload hookstest.Status
	// Agent is "idle", or "error" after a failed hook (HookFailed names it).
	Agent      string
	HookFailed string
}

// Status is what `juju status` shows for the application.
type Status struct {
	App     string
	Status  hookstest.Status
	Version string
	Units   []UnitStatus
	// Relations are "endpoint:id remote-app" lines.
	Relations []string
}

// Status reads the model like `juju status`: the application status is the
// one the leader set, else the most severe unit status, as Juju derives it.
func (s *Sim) Status(ctx context.Context) (Status, error) {
	m, err := s.store.read(ctx)
	if err != nil {
		return Status{}, err
	}
	s.mu.Lock()
	errs := map[string]string{}
	for k, v := range s.state.Errors {
		errs[k] = v
	}
	s.mu.Unlock()
	st := Status{App: m.App, Status: m.AppStatus, Version: m.Version}
	worst := hookstest.Status{}
	for _, u := range m.Units {
		us := UnitStatus{Name: u, Leader: u == m.Leader, Address: m.Addresses[u], Workload: m.Statuses[u], Agent: "idle"}
		if us.Workload.Name == "" {
			us.Workload.Name = "unknown"
		}
		if h, ok := errs[u]; ok {
			us.Agent, us.HookFailed = "error", h
		}
		if severity(us.Workload.Name) > severity(worst.Name) {
			worst = us.Workload
		}
		st.Units = append(st.Units, us)
	}
	if st.Status.Name == "" {
		st.Status = worst
	}
	for _, r := range m.Relations {
		st.Relations = append(st.Relations, fmt.Sprintf("%s %s", r.RelationID(), r.RemoteApp))
	}
	return st, nil
}

// severity orders workload statuses the way Juju picks the worst.
func severity(name string) int {
	switch name {
	case "error":
		return 6
	case "blocked":
		return 5
	case "maintenance":
		return 4
	case "waiting":
		return 3
	case "active":
		return 2
	case "unknown":
		return 1
	}
	return 0
}

// String renders the status as `juju status` lays it out.
func (st Status) String() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "App\tVersion\tStatus\tMessage\n")
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\n\n", st.App, st.Version, orUnknown(st.Status.Name), st.Status.Message)
	fmt.Fprintf(w, "Unit\tWorkload\tAgent\tAddress\tMessage\n")
	for _, u := range st.Units {
		name := u.Name
		if u.Leader {
			name += "*"
		}
		msg := u.Workload.Message
		if u.HookFailed != "" {
			msg = fmt.Sprintf("hook failed: %q", u.HookFailed)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", name, u.Workload.Name, u.Agent, u.Address, msg)
	}
	if len(st.Relations) > 0 {
		fmt.Fprintf(w, "\nRelation\tRemote\n")
		for _, r := range st.Relations {
			fmt.Fprintln(w, strings.Replace(r, " ", "\t", 1))
		}
	}
	w.Flush()
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
