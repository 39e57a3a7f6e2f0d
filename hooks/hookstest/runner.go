package hookstest

import (
	"context"

	"mirrormaker-k8s/hooks"
)

// Runner returns a hooks.Runner that runs tools as unit against m, so the
// charm's tests exercise the same argument handling as a real hook,
// including the kernel's limits on argv (CheckArgv).
func (m *Model) Runner(unit string) hooks.Runner { return modelRunner{m: m, unit: unit} }

type modelRunner struct {
	m    *Model
	unit string
}

func (r modelRunner) Run(ctx context.Context, tool string, args []string, stdin []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := CheckArgv(tool, args); err != nil {
		// As hooks.ExecRunner reports a tool that could not start.
		return nil, &hooks.ToolError{Tool: tool, Args: append([]string(nil), args...), Stderr: "fork/exec " + tool + ": " + err.Error(), ExitCode: 127}
	}
	stdout, stderr, code := r.m.Exec(r.unit, tool, args, stdin)
	if code != 0 {
		return nil, &hooks.ToolError{Tool: tool, Args: append([]string(nil), args...), Stderr: string(stderr), ExitCode: code}
	}
	return stdout, nil
}
