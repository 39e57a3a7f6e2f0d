// Command mirrormaker-k8s is the charm's dispatch binary: Juju runs it for every hook and action.
// It reads the hook context, builds the real clients and hands over to charm.Run. Run as
// `mirrormaker-k8s export` in the workload container (the charm pushes it there), it is the
// migration exporter instead.
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
	"mirrormaker-k8s/internal/exporter"
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
	if len(os.Args) > 1 && os.Args[1] == "export" {
		return exporter.Main(ctx, os.Args[2:])
	}
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
