package hookstest

import (
	"fmt"

	"mirrormaker-k8s/hooks"
)

// Linux's limits on what one exec may carry (include/uapi/linux/binfmts.h
// and fs/exec.c): no single argument past MAX_ARG_STRLEN (32 pages) with its
// NUL, and arguments plus environment, strings and pointers, within a
// quarter of the stack limit: 2 MiB under the default 8 MiB `ulimit -s`.
const (
	MaxArgStrlen = 32 * 4096
	ArgMax       = 2 << 20
	// hookEnvBytes stands for the environment Juju gives a hook (JUJU_*,
	// PATH, proxy settings), which shares ArgMax with the arguments.
	hookEnvBytes = 8 << 10
)

// CheckArgv returns the error the kernel gives (E2BIG) when tool could not be
// exec'd with args in a hook, and nil when it could. The in-memory model
// checks it so a charm that passes too much on argv fails its tests the way
// it would fail in a real hook, where Juju's hook tools are processes.
func CheckArgv(tool string, args []string) error {
	total := hookEnvBytes + hooks.ArgvCost(tool)
	for _, a := range args {
		if len(a)+1 > MaxArgStrlen {
			return errArgvTooLong
		}
		total += hooks.ArgvCost(a)
	}
	if total > ArgMax {
		return errArgvTooLong
	}
	return nil
}

var errArgvTooLong = fmt.Errorf("argument list too long")
