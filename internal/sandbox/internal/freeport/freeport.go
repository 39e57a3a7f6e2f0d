// Package freeport picks unused loopback ports for the sandbox's servers (brokers, Prometheus).
package freeport

import (
	"fmt"
	"net"
)

// Pick asks the kernel for an unused port on 127.0.0.1. Another process could take it before the
// server binds; on loopback in a sandbox that race is rare, and the servers that use it retry or
// fail with a clear bind error in their log.
func Pick() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("cannot find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
