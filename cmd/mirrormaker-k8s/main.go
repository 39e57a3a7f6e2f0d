// Command mirrormaker-k8s is the charm's dispatch binary: Juju runs it for every hook and action.
// It reads the hook context, builds the real clients and hands over to charm.Run.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"mirrormaker-k8s/charm"
	"mirrormaker-k8s/hooks"
	"mirrormaker-k8s/internal/workload"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hc, err := hooks.NewContext(os.Getenv)
	if err != nil {
		return err
	}
	tools := hooks.NewTools(hooks.ExecRunner{})
	w, err := workload.Connect(workload.SocketPath)
	if err != nil {
		return err
	}
	probe := charm.KafkaProbe{}
	if hc.CharmDir != "" {
		probe.BookPath = filepath.Join(hc.CharmDir, charm.BookFile)
	}
	return charm.New(hc, tools, w, probe).Run(ctx)
}
