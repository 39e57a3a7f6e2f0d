package workload

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/canonical/pebble/client"
)

// defaultPerm is what Pebble gives a pushed file when no permissions are sent.
const defaultPerm os.FileMode = 0o644

// File is one file MM2 reads. Secret files (the SASL JAAS lines) arrive with
// Perm 0600: the content is never logged or put in an error.
type File struct {
	// Path is absolute, in the workload container.
	Path string
	// Content is the whole file.
	Content []byte
	// Perm is the file's permission bits; zero means 0644.
	Perm os.FileMode
	// User and Group own the file (and directories Push creates); empty
	// leaves Pebble's default (the daemon's user).
	User, Group string
}

func (f File) perm() os.FileMode {
	if f.Perm == 0 {
		return defaultPerm
	}
	return f.Perm.Perm()
}

// fileSync is what syncing the files found and did.
type fileSync struct {
	// pushed lists the paths written, in the order given.
	pushed []string
	// newestKept is the newest modification time of the files left alone (as
	// Pebble reports it, truncated to the second). A running service that
	// started before it has not read them: a previous Apply pushed them and
	// died before restarting.
	newestKept time.Time
}

// syncFiles pushes the files that are missing or differ in content or mode,
// and leaves the others untouched.
func (w *Workload) syncFiles(files []File) (fileSync, error) {
	var s fileSync
	for _, f := range files {
		same, mtime, err := w.fileIsCurrent(f)
		if err != nil {
			return s, err
		}
		if same {
			if mtime.After(s.newestKept) {
				s.newestKept = mtime
			}
			continue
		}
		err = w.pebble.Push(&client.PushOptions{
			Source:      bytes.NewReader(f.Content),
			Path:        f.Path,
			MakeDirs:    true,
			Permissions: f.perm(),
			User:        f.User,
			Group:       f.Group,
		})
		if err != nil {
			return s, fmt.Errorf("cannot push %s: %w", f.Path, notReady(err))
		}
		s.pushed = append(s.pushed, f.Path)
	}
	return s, nil
}

// fileIsCurrent reports whether f is in place with the wanted content and
// mode, and when it was last modified. A missing file is not current.
func (w *Workload) fileIsCurrent(f File) (bool, time.Time, error) {
	infos, err := w.pebble.ListFiles(&client.ListFilesOptions{Path: f.Path, Itself: true})
	if isNotFound(err) {
		return false, time.Time{}, nil
	}
	if err != nil {
		return false, time.Time{}, fmt.Errorf("cannot inspect %s: %w", f.Path, notReady(err))
	}
	if len(infos) != 1 {
		return false, time.Time{}, fmt.Errorf("cannot inspect %s: pebble listed %d entries", f.Path, len(infos))
	}
	info := infos[0]
	// Ownership is set on push but not compared: Pebble reports the first
	// name of the owner's uid, and an image where another user shares the
	// uid (ubuntu and kafka both 1000) would then look changed forever and
	// restart MM2 on every hook.
	if !info.Mode().IsRegular() || info.Mode().Perm() != f.perm() ||
		info.Size() != int64(len(f.Content)) {
		return false, info.ModTime(), nil
	}
	var buf bytes.Buffer
	err = w.pebble.Pull(&client.PullOptions{Path: f.Path, Target: &buf})
	if isNotFound(err) {
		return false, time.Time{}, nil
	}
	if err != nil {
		return false, time.Time{}, fmt.Errorf("cannot pull %s: %w", f.Path, notReady(err))
	}
	return bytes.Equal(buf.Bytes(), f.Content), info.ModTime(), nil
}

// isNotFound reports whether err is Pebble saying the path does not exist.
func isNotFound(err error) bool {
	var perr *client.Error
	return errors.As(err, &perr) && perr.Kind == client.ErrorKindNotFound
}
