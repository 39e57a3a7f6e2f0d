package pods

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// A pod runs in its own session so that pods started by one CLI call
// outlive it. A test's pods must not: when `go test` is killed by its
// timeout, nothing stops them, and their Pebble and MM2 JVMs would run on,
// holding ports and CPU for every later run. So a pod started for a process
// that owns it (Options.Owned) carries that process in its environment,
// which Pebble hands down to every service, and Reap, run first by the next
// test binary, kills every process whose owner is gone.

// ownerEnv is the variable that names a pod's owning process, as
// "<pid>:<start time>" (the start time tells a reused pid apart).
const ownerEnv = "MM_SANDBOX_OWNER"

// ownerMark is this process's mark: pid and start time.
func ownerMark() string {
	pid := os.Getpid()
	return strconv.Itoa(pid) + ":" + startTime(pid)
}

// startTime is field 22 of /proc/<pid>/stat (clock ticks after boot), "" when
// the process is gone.
func startTime(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	fields := strings.Fields(s[i+1:]) // state is field 3, so start time (22) is index 19
	if len(fields) < 20 {
		return ""
	}
	return fields[19]
}

// ownerAlive reports whether the process a mark names still runs.
func ownerAlive(mark string) bool {
	pidText, start, ok := strings.Cut(mark, ":")
	pid, err := strconv.Atoi(pidText)
	if !ok || err != nil {
		return false
	}
	return startTime(pid) == start && !isZombie(pid)
}

// Reap kills, with SIGKILL, every process of a pod whose owner is no longer
// running, and returns their pids. Pods started without an owner (the CLI's)
// are left alone.
func Reap() ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("cannot list processes: %w", err)
	}
	var killed []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			continue // gone, or a kernel thread
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			mark, ok := bytes.CutPrefix(kv, []byte(ownerEnv+"="))
			if !ok {
				continue
			}
			if !ownerAlive(string(mark)) && syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed = append(killed, pid)
			}
			break
		}
	}
	return killed, nil
}
