// Command sandbox is the local Juju world for the demo and tests: juju-like
// verbs (up, deploy, relate, config, run, status, ...) over a state dir, and,
// when invoked through a symlink named after a hook tool (config-get,
// relation-set, ...), that hook tool for the simulator's model (served by the
// jujusim package's init before main runs).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"mirrormaker-k8s/internal/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := sandbox.CLI(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
