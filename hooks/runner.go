package hooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Runner runs one hook tool. It is the seam between the typed calls of Tools
// and the process boundary, so tests substitute an in-memory Juju
// (hookstest.Model.Runner) for the real tools.
type Runner interface {
	// Run runs tool with args, feeding it stdin, and returns its stdout.
	// A tool that fails returns a *ToolError.
	Run(ctx context.Context, tool string, args []string, stdin []byte) ([]byte, error)
}

// Sentinel errors for the tool failures a charm branches on. A *ToolError
// matches them with errors.Is by the text Juju writes to stderr.
var (
	// ErrRelationNotFound: the relation id is unknown (gone, or never was).
	ErrRelationNotFound = errors.New("relation not found")
	// ErrSecretNotFound: secret-get of a URI or label Juju does not know.
	ErrSecretNotFound = errors.New("secret not found")
	// ErrNotLeader: a leader-only write (app databag, app status) by a non-leader.
	ErrNotLeader = errors.New("unit is not the leader")
	// ErrPermissionDenied: the unit may not read what it asked for, such as a
	// user secret not granted to the application.
	ErrPermissionDenied = errors.New("permission denied")
)

// ToolError is a hook tool that exited non-zero (or could not start: exit
// code 127). It never holds stdin, which may carry relation data or secrets.
type ToolError struct {
	Tool     string
	Args     []string
	Stderr   string
	ExitCode int
}

// Error gives the tool and what Juju said, which is what an operator needs in
// the debug log; args are left out because they may be long.
func (e *ToolError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", e.ExitCode)
	}
	return fmt.Sprintf("cannot run %s: %s", e.Tool, msg)
}

// Is maps Juju's error text to the sentinels, so callers need not parse
// stderr themselves.
func (e *ToolError) Is(target error) bool {
	s := e.Stderr
	switch target {
	case ErrRelationNotFound:
		return strings.Contains(s, "relation not found")
	case ErrSecretNotFound:
		return strings.HasPrefix(e.Tool, "secret-") && strings.Contains(s, "not found")
	case ErrNotLeader:
		return strings.Contains(s, "not the leader") || strings.Contains(s, "cannot write relation settings")
	case ErrPermissionDenied:
		return strings.Contains(s, "permission denied")
	}
	return false
}

// ExecRunner runs the hook tools Juju puts on PATH during a hook.
type ExecRunner struct{}

// Run implements Runner by starting tool as a process.
func (ExecRunner) Run(ctx context.Context, tool string, args []string, stdin []byte) ([]byte, error) {
	cmd := exec.CommandContext(ctx, tool, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	te := &ToolError{Tool: tool, Args: append([]string(nil), args...), Stderr: stderr.String(), ExitCode: 127}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("cannot run %s: %w", tool, ctx.Err())
	case errors.As(err, &exitErr):
		te.ExitCode = exitErr.ExitCode()
	default:
		te.Stderr = err.Error()
	}
	return nil, te
}
