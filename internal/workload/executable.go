package workload

import (
	"fmt"
	"io"
	"os"
	"path"

	"github.com/canonical/pebble/client"
)

// Executable is a program pushed into the container for the companion to run: the charm's own
// binary, tens of megabytes. Its Path names the build (a new build is a new name), so it is
// never read back to be compared: a file of that name, executable, is the build. Other files in
// its folder are earlier builds and are removed once the new one is in place.
type Executable struct {
	// Path is absolute, in the container; its folder holds nothing else.
	Path string
	// Open reads the program; it is called only when the program must be pushed.
	Open func() (io.ReadCloser, error)
}

const executablePerm os.FileMode = 0o755

// ensureExecutable pushes e unless it is in place, and then removes earlier builds. It costs one
// listing when nothing is to be done.
func (w *Workload) ensureExecutable(e Executable) (pushed bool, err error) {
	dir, name := path.Dir(e.Path), path.Base(e.Path)
	listing, err := w.listDir(dir)
	if err != nil {
		return false, err
	}
	if info, ok := listing[name]; ok && info.Mode().IsRegular() && info.Mode().Perm() == executablePerm {
		return false, nil
	}
	r, err := e.Open()
	if err != nil {
		return false, fmt.Errorf("cannot read %s to push it: %w", name, err)
	}
	defer r.Close()
	err = w.pebble.Push(&client.PushOptions{Source: r, Path: e.Path, MakeDirs: true, Permissions: executablePerm})
	if err != nil {
		return false, fmt.Errorf("cannot push %s: %w", e.Path, notReady(err))
	}
	for other := range listing {
		if other == name {
			continue
		}
		// A process may still run an earlier build until its restart; unlinking the file does
		// not disturb it.
		if err := w.pebble.RemovePath(&client.RemovePathOptions{Path: path.Join(dir, other)}); err != nil {
			return true, fmt.Errorf("cannot remove an earlier build from %s: %w", dir, notReady(err))
		}
	}
	return true, nil
}
