// Package workload drives the MirrorMaker 2 workload through Pebble: it pushes
// the files MM2 reads, keeps one Pebble layer in step with the desired service,
// and starts, restarts or stops the service only when something changed.
//
// It knows nothing of Juju or of Kafka configuration: the charm renders the
// desired state (files and service) and hands it to Apply.
package workload

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"time"

	"github.com/canonical/pebble/client"
)

// Pebble is the part of *client.Client this package uses. It is declared here,
// on the consumer side, so unit tests can drive Workload with a hand-written fake.
type Pebble interface {
	SysInfo() (*client.SysInfo, error)
	AddLayer(opts *client.AddLayerOptions) error
	PlanBytes(opts *client.PlanOptions) ([]byte, error)
	Push(opts *client.PushOptions) error
	Pull(opts *client.PullOptions) error
	ListFiles(opts *client.ListFilesOptions) ([]*client.FileInfo, error)
	RemovePath(opts *client.RemovePathOptions) error
	Start(opts *client.ServiceOptions) (string, error)
	Stop(opts *client.ServiceOptions) (string, error)
	Restart(opts *client.ServiceOptions) (string, error)
	WaitChange(id string, opts *client.WaitChangeOptions) (*client.Change, error)
	Services(opts *client.ServicesOptions) ([]*client.ServiceInfo, error)
}

var _ Pebble = (*client.Client)(nil)

const (
	// ServiceName is the Pebble service that runs MM2; the charm and tests
	// refer to it by this name (logs, `pebble services`).
	ServiceName = "mirrormaker"

	// CheckName is the Pebble check that restarts MM2 when its liveness URL
	// stops answering; it exists only when Service.CheckURL is set.
	CheckName = "mirrormaker-alive"

	// LayerLabel is the label of the one layer this package owns; adding it
	// again with Combine replaces our services, check and log targets and
	// nothing else.
	LayerLabel = "mirrormaker"

	// SocketPath is where a Kubernetes sidecar charm reaches the Pebble of
	// its "mirrormaker" container.
	SocketPath = "/charm/containers/mirrormaker/pebble.socket"

	// DefaultChangeTimeout bounds how long Apply and Stop wait for one Pebble
	// change, so a stuck stop or start fails the hook instead of hanging it.
	DefaultChangeTimeout = 90 * time.Second
)

// ErrNotReady marks errors that mean Pebble cannot be reached (yet): the
// charm tests for it with errors.Is and reports "waiting for Pebble" instead
// of failing.
var ErrNotReady = errors.New("pebble is not ready")

// Workload is the MM2 workload as seen through one Pebble daemon.
type Workload struct {
	pebble Pebble
	// socket is Pebble's socket when Connect made the client, "" for a fake.
	socket string

	// ChangeTimeout bounds the wait for each Pebble change (start, stop,
	// restart). Zero means DefaultChangeTimeout.
	ChangeTimeout time.Duration

	// ready is Ready's answer, asked once per Workload (one dispatch).
	ready *error
	// now is the clock stamps are taken by (see Stamp); tests set it.
	now func() time.Time
}

// New returns a Workload driving the given Pebble client (a real
// *client.Client or a test fake).
func New(p Pebble) *Workload {
	return &Workload{pebble: p, now: time.Now}
}

// Connect returns a Workload talking to the Pebble daemon listening on
// socket. It makes no request, so it succeeds even before Pebble is up; call
// Ready to find out whether Pebble answers.
func Connect(socket string) (*Workload, error) {
	c, err := client.New(&client.Config{Socket: socket})
	if err != nil {
		return nil, fmt.Errorf("cannot create pebble client: %w", err)
	}
	w := New(c)
	w.socket = socket
	return w, nil
}

// Ready reports whether Pebble answers. Its error wraps ErrNotReady, so the
// charm can wait for the container instead of failing the hook.
//
// It asks once per Workload, which lives for one dispatch: a hook that finds
// Pebble away does not try again, and one that found it up does not ask
// again before every call.
//
// Before the container is up (install, leader-elected, the first relation
// hooks) its socket does not exist yet, and the Pebble client would retry a
// GET for 5 s before giving up: every such hook took 5 s. After the workload
// container died, its socket file stays behind with nothing listening, and
// the client would retry the same 5 s. So with a socket, Ready connects to it
// once, within readyTimeout, and asks Pebble nothing: a refused or missing
// socket is not ready at once, and the hook's first real request follows.
func (w *Workload) Ready() error {
	if w.ready == nil {
		err := w.probe()
		w.ready = &err
	}
	return *w.ready
}

// readyTimeout bounds Ready's one attempt to connect to Pebble's socket.
const readyTimeout = time.Second

func (w *Workload) probe() error {
	if w.socket == "" { // a client made by New (a test fake): ask it
		if _, err := w.pebble.SysInfo(); err != nil {
			return fmt.Errorf("%w: %w", ErrNotReady, err)
		}
		return nil
	}
	if _, err := os.Stat(w.socket); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: no socket at %s yet", ErrNotReady, w.socket)
	}
	conn, err := net.DialTimeout("unix", w.socket, readyTimeout)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	_ = conn.Close()
	return nil
}

// notReady adds ErrNotReady to errors that mean the daemon could not be
// reached at all, and leaves every other error alone.
func notReady(err error) error {
	if err == nil || errors.Is(err, ErrNotReady) {
		return err
	}
	var connErr client.ConnectionError
	var sockErr *client.SocketNotFoundError
	if errors.As(err, &connErr) || errors.As(err, &sockErr) {
		return fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	return err
}

func (w *Workload) changeTimeout() time.Duration {
	if w.ChangeTimeout > 0 {
		return w.ChangeTimeout
	}
	return DefaultChangeTimeout
}
