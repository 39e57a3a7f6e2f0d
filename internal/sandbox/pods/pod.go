package pods

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/canonical/pebble/client"

	"mirrormaker-k8s/internal/sandbox/internal/poll"
)

// Container is the workload container every pod holds; the charm reaches
// its Pebble at /charm/containers/<Container>/pebble.socket, as on K8s.
const Container = "mirrormaker"

// socket is the Pebble socket path as seen from inside a pod.
const socket = "/charm/containers/" + Container + "/pebble.socket"

// podMounts are the host paths a pod hides behind its own folders. They are
// created empty on the host when missing (a bind mount needs a mount point);
// their content on the host is never touched.
var podMounts = []struct{ sub, target string }{
	{"charm-root", "/charm"},
	{"etc-kafka", "/etc/kafka"},
	{"opt-kafka", "/opt/kafka"},
	{"var-log-kafka", "/var/log/kafka"},
	// The charm's own binaries (the migration exporter), pushed by each
	// unit's charm: /opt/kafka cannot hold them, it is the Kafka dist every
	// pod shares.
	{"opt-mirrormaker-k8s", "/opt/mirrormaker-k8s"},
	{"passwd", "/etc/passwd"},
	{"group", "/etc/group"},
}

// Options say where a pod lives and what it shows at /opt/kafka.
type Options struct {
	// Dir holds everything of the pod; it is created when missing.
	Dir string
	// PebbleBin is the host path of the pebble daemon binary.
	PebbleBin string
	// KafkaHome is bound over /opt/kafka (bin/, libs/); empty binds an empty dir.
	KafkaHome string
	// BaseLayer is the workload image's own Pebble layer. Like Juju with the
	// rock's /var/lib/pebble/default, the pod's Pebble gets it through
	// PEBBLE_COPY_ONCE: copied into an empty $PEBBLE on first start only.
	BaseLayer []byte
	// Owned makes the pod this process's: if the process dies without
	// stopping it, a later Reap kills what is left (see reap.go). The CLI's
	// pods, meant to outlive each call, are not owned.
	Owned bool
}

// Pod is one unit's "pod": a real Pebble daemon in its own mount namespace
// where /charm, /etc/kafka, /opt/kafka, /var/log/kafka, /opt/mirrormaker-k8s,
// /etc/passwd and /etc/group are the pod's own, so the charm runs against the real paths and
// the real socket location while the host's folders stay untouched.
type Pod struct {
	// Dir is the pod's folder on the host.
	Dir string
	// CharmDir is where the unpacked charm lives (JUJU_CHARM_DIR); the same
	// path inside and outside the pod.
	CharmDir string
	// PID is the pebble daemon's pid; its mount namespace is the pod's.
	PID int

	mntns string // readlink of /proc/PID/ns/mnt when started, to detect pid reuse
}

// Start prepares opts.Dir and starts the pod's Pebble in a new mount
// namespace and session (so pods started by one CLI call outlive it). It
// returns when Pebble answers on its socket.
func Start(ctx context.Context, opts Options) (*Pod, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("cannot resolve pod dir: %w", err)
	}
	if _, err := os.Stat(opts.PebbleBin); err != nil {
		return nil, fmt.Errorf("cannot find pebble binary: %w", err)
	}
	if err := preparePodDir(dir, opts.KafkaHome); err != nil {
		return nil, err
	}
	copyOnce := ""
	if len(opts.BaseLayer) > 0 {
		copyOnce = filepath.Join(dir, "image-pebble")
		if err := os.MkdirAll(filepath.Join(copyOnce, "layers"), 0o755); err != nil {
			return nil, fmt.Errorf("cannot create the image's pebble dir: %w", err)
		}
		if err := os.WriteFile(filepath.Join(copyOnce, "layers", "001-image.yaml"), opts.BaseLayer, 0o644); err != nil {
			return nil, fmt.Errorf("cannot write the image's pebble layer: %w", err)
		}
	}
	for _, m := range podMounts {
		if err := ensureMountPoint(m.target, m.sub == "passwd" || m.sub == "group"); err != nil {
			return nil, err
		}
	}
	kafkaHome := filepath.Join(dir, "opt-kafka")
	if opts.KafkaHome != "" {
		kafkaHome = opts.KafkaHome
	}
	var script strings.Builder
	script.WriteString("set -e\n")
	args := []string{"--mount", "--propagation", "private", "--", "sh", "-c", "", "pod"}
	for i, m := range podMounts {
		src := filepath.Join(dir, m.sub)
		if m.sub == "opt-kafka" {
			src = kafkaHome
		}
		fmt.Fprintf(&script, "mount --bind \"$%d\" %s\n", i+1, m.target)
		args = append(args, src)
	}
	fmt.Fprintf(&script, "exec \"$%d\" run --hold --create-dirs\n", len(podMounts)+1)
	args = append(args, opts.PebbleBin)
	args[6] = script.String()

	logFile, err := os.OpenFile(filepath.Join(dir, "pebble.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open pebble log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command("unshare", args...)
	cmd.Env = podEnv(dir, copyOnce)
	if opts.Owned {
		cmd.Env = append(cmd.Env, ownerEnv+"="+ownerMark())
	}
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start pod: %w", err)
	}
	// Reap the daemon whenever it exits so it does not linger as a zombie
	// while this process lives; pods started by the CLI are reparented.
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()

	pod := &Pod{Dir: dir, CharmDir: filepath.Join(dir, "charm"), PID: cmd.Process.Pid}
	if err := pod.waitReady(ctx, exited); err != nil {
		_ = pod.kill(10 * time.Second)
		return nil, fmt.Errorf("cannot start pod %s: %w (see %s)", dir, err, filepath.Join(dir, "pebble.log"))
	}
	if err := os.WriteFile(filepath.Join(dir, "pebble.pid"), []byte(fmt.Sprintf("%d %s\n", pod.PID, pod.mntns)), 0o644); err != nil {
		_ = pod.kill(10 * time.Second)
		return nil, fmt.Errorf("cannot record pod pid: %w", err)
	}
	return pod, nil
}

// Attach finds the running pod recorded in dir by an earlier Start,
// possibly in another process; it fails when that Pebble is gone.
func Attach(dir string) (*Pod, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot resolve pod dir: %w", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "pebble.pid"))
	if err != nil {
		return nil, fmt.Errorf("cannot read pod pid: %w", err)
	}
	fields := strings.Fields(string(data))
	if len(fields) != 2 {
		return nil, fmt.Errorf("cannot parse pod pid file %q", data)
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil {
		return nil, fmt.Errorf("cannot parse pod pid: %w", err)
	}
	pod := &Pod{Dir: dir, CharmDir: filepath.Join(dir, "charm"), PID: pid, mntns: fields[1]}
	if !pod.alive() {
		return nil, fmt.Errorf("cannot attach pod %s: pebble (pid %d) is not running", dir, pid)
	}
	return pod, nil
}

// podEnv is the environment of a pod's Pebble, inherited by its services:
// the host's PATH and Java settings, Pebble's own variables, nothing else.
func podEnv(dir, copyOnce string) []string {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root",
		"LANG=C.UTF-8",
		"PEBBLE=" + filepath.Join(dir, "pebble"),
		"PEBBLE_SOCKET=" + socket,
	}
	if copyOnce != "" {
		env = append(env, "PEBBLE_COPY_ONCE="+copyOnce)
	}
	if v := os.Getenv("JAVA_HOME"); v != "" {
		env = append(env, "JAVA_HOME="+v)
	}
	if p := os.Getenv("PATH"); p != "" {
		env[0] = "PATH=" + p
	}
	return env
}

// socketPath is a host path to the pod's Pebble socket: Socket seen
// through the daemon's /proc root, which resolves in the pod's mount
// namespace and stays short (unix socket paths are limited to 108 bytes,
// which a deep state dir would exceed).
func (p *Pod) socketPath() string {
	return fmt.Sprintf("/proc/%d/root%s", p.PID, socket)
}

// Client returns a Pebble client talking to the pod's daemon from the host.
func (p *Pod) Client() (*client.Client, error) {
	c, err := client.New(&client.Config{Socket: p.socketPath()})
	if err != nil {
		return nil, fmt.Errorf("cannot create pebble client: %w", err)
	}
	return c, nil
}

// Command returns a command that runs name inside the pod's mount namespace
// with exactly env as its environment and dir as its working directory.
func (p *Pod) Command(ctx context.Context, env []string, dir, name string, args ...string) *exec.Cmd {
	nsArgs := []string{"--mount=/proc/" + strconv.Itoa(p.PID) + "/ns/mnt", "--wd=" + dir, "--", name}
	cmd := exec.CommandContext(ctx, "nsenter", append(nsArgs, args...)...)
	cmd.Env = env
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Kill the whole hook process group on cancellation, not only nsenter.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func (p *Pod) waitReady(ctx context.Context, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := p.Client()
	if err != nil {
		return err
	}
	defer c.CloseIdleConnections()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if p.mntns == "" {
			if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", p.PID)); err == nil {
				if self, _ := os.Readlink("/proc/self/ns/mnt"); ns != self {
					p.mntns = ns
				}
			}
		}
		if p.mntns != "" {
			if _, err := c.SysInfo(); err == nil {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("pebble exited")
		case <-ctx.Done():
			return fmt.Errorf("pebble not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// alive reports whether the pod's Pebble still runs in the pod's namespace.
func (p *Pod) alive() bool {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", p.PID))
	return err == nil && ns == p.mntns && !isZombie(p.PID)
}

// Stop stops every Pebble service (so workloads in their own process groups,
// such as MM2's JVM, die cleanly), then Pebble itself, then kills anything
// still left in the pod's mount namespace. It reports what it had to kill.
func (p *Pod) Stop(ctx context.Context) error {
	var errs []error
	if p.alive() {
		if err := p.stopServices(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := p.kill(15 * time.Second); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (p *Pod) stopServices(ctx context.Context) error {
	c, err := p.Client()
	if err != nil {
		return err
	}
	defer c.CloseIdleConnections()
	svcs, err := c.Services(&client.ServicesOptions{})
	if err != nil {
		return fmt.Errorf("cannot list pod services: %w", err)
	}
	var names []string
	for _, s := range svcs {
		if s.Current == client.StatusActive || s.Current == client.StatusBackoff {
			names = append(names, s.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	id, err := c.Stop(&client.ServiceOptions{Names: names})
	if err != nil {
		return fmt.Errorf("cannot stop pod services: %w", err)
	}
	timeout := 30 * time.Second
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = max(time.Until(d), time.Second)
	}
	if _, err := c.WaitChange(id, &client.WaitChangeOptions{Timeout: timeout}); err != nil {
		return fmt.Errorf("cannot stop pod services: %w", err)
	}
	return nil
}

// kill terminates Pebble, waits up to grace, then SIGKILLs every process
// left in the pod's mount namespace and waits until none is.
func (p *Pod) kill(grace time.Duration) error {
	if p.alive() {
		_ = syscall.Kill(p.PID, syscall.SIGTERM)
	}
	if poll.For(grace, func() bool { return len(p.processes()) == 0 }) {
		return nil
	}
	left := p.processes()
	for _, pid := range left {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if !poll.For(10*time.Second, func() bool { return len(p.processes()) == 0 }) {
		return fmt.Errorf("cannot stop pod %s: processes %v survive SIGKILL", p.Dir, p.processes())
	}
	if len(left) == 1 && left[0] == p.PID {
		return nil // pebble ignored SIGTERM within grace; nothing leaked
	}
	return fmt.Errorf("pod %s leaked processes %v after pebble stopped; killed them", p.Dir, left)
}

// processes lists the live processes in the pod's mount namespace.
func (p *Pod) processes() []int {
	if p.mntns == "" {
		return nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid)); err == nil && ns == p.mntns && !isZombie(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Processes lists the live processes in the pod's mount namespace: Pebble,
// its services and any hook running; empty once the pod is stopped.
func (p *Pod) Processes() []int { return p.processes() }

func isZombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}
