package jujusim

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"mirrormaker-k8s/hooks/hookstest"
)

// isHookTool reports whether name is a hook tool the model answers; the
// simulator links every one of them (hookstest.Tools) into a hook's PATH,
// each a symlink to one multi-call binary.
func isHookTool(name string) bool { return slices.Contains(hookstest.Tools(), name) }

// init makes every binary that links this package a valid hook tool binary
// (cmd/sandbox, and any test binary driving a Sim): run through a tool
// symlink with $SANDBOX_MODEL set, it serves the tool and exits before main
// or TestMain, so a test binary can never re-run its tests as config-get.
func init() { maybeRunHookTool() }

// maybeRunHookTool runs the hook tool named by os.Args[0] and exits when the
// binary was invoked through a tool symlink with $SANDBOX_MODEL set;
// otherwise it returns. The package's init already calls it.
func maybeRunHookTool() {
	name := filepath.Base(os.Args[0])
	if os.Getenv(ModelEnv) == "" || !isHookTool(name) {
		return
	}
	os.Exit(runHookTool(name, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// runHookTool serves one hook tool call: it locks the model named by
// $SANDBOX_MODEL, runs the tool as $JUJU_UNIT_NAME, saves the model and
// returns the exit code. Tool failures are Juju's texts on stderr.
func runHookTool(name string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	path := os.Getenv(ModelEnv)
	unit := os.Getenv("JUJU_UNIT_NAME")
	if path == "" || unit == "" {
		fmt.Fprintf(stderr, "ERROR %s: $%s and $JUJU_UNIT_NAME must be set\n", name, ModelEnv)
		return 2
	}
	args = defaultRelation(name, args, os.Getenv("JUJU_RELATION_ID"))
	var in []byte
	if usesStdin(args) {
		var err error
		if in, err = io.ReadAll(stdin); err != nil {
			fmt.Fprintf(stderr, "ERROR cannot read stdin: %v\n", err)
			return 1
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut []byte
	code := 0
	err := modelStore{path: path}.update(ctx, func(m *hookstest.Model) error {
		out, errOut, code = m.Exec(unit, name, args, in)
		return nil
	})
	if err != nil {
		fmt.Fprintf(stderr, "ERROR %v\n", err)
		return 1
	}
	_, _ = stdout.Write(out)
	_, _ = stderr.Write(errOut)
	return code
}

// defaultRelation adds "-r <JUJU_RELATION_ID>" to relation-get, -set and
// -list called without one in a relation hook, as Juju defaults it.
func defaultRelation(tool string, args []string, relID string) []string {
	if relID == "" || (tool != "relation-get" && tool != "relation-set" && tool != "relation-list") {
		return args
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-r" || a == "--relation" || strings.HasPrefix(a, "-r=") || strings.HasPrefix(a, "--relation=") {
			return args
		}
	}
	return append([]string{"-r", relID}, args...)
}

// usesStdin reports whether a tool reads stdin: only "--file -" does; other
// tools must not block on a terminal or an open pipe.
func usesStdin(args []string) bool {
	for i, a := range args {
		if a == "--file=-" || (a == "--file" && i+1 < len(args) && args[i+1] == "-") {
			return true
		}
	}
	return false
}

// writeToolsDir makes dir a folder of hook tool symlinks to binary.
func writeToolsDir(dir, binary string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create tools dir: %w", err)
	}
	for _, t := range hookstest.Tools() {
		link := filepath.Join(dir, t)
		_ = os.Remove(link)
		if err := os.Symlink(binary, link); err != nil {
			return fmt.Errorf("cannot link hook tool %s: %w", t, err)
		}
	}
	return nil
}
