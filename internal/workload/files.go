package workload

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
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
	// Quiet marks a file no service needs restarting for: the companion
	// re-reads it on its own. Pushing it restarts nothing.
	Quiet bool
}

func (f File) perm() os.FileMode {
	if f.Perm == 0 {
		return defaultPerm
	}
	return f.Perm.Perm()
}

// Stamp is what an earlier Apply learned of a file it read back whole: the
// digest of its content and what Pebble's listing said of it then. A later
// Apply that lists the file and finds the same size, mode and modification
// time knows its content without pulling it (the secrets file included).
//
// Pebble reports modification times to the second, so a write in the same
// second as the one listed would leave them equal. A stamp is therefore only
// taken when the check began in a later second than the file's modification
// time: any write after the check then lands in a later second too, and the
// listing shows it. A file rewritten by hand with its old size and an old
// modification time forged back is not noticed; nothing but the charm
// writes these files.
type Stamp struct {
	Sum     string      `json:"sum"` // hex SHA-256 of the content
	Size    int64       `json:"size"`
	Mode    os.FileMode `json:"mode"`
	ModTime time.Time   `json:"mtime"`
}

// Equal reports whether two stamps vouch for the same thing (times compared as instants).
func (s Stamp) Equal(o Stamp) bool {
	return s.Sum == o.Sum && s.Size == o.Size && s.Mode == o.Mode && s.ModTime.Equal(o.ModTime)
}

// digest is the Stamp.Sum of content.
func digest(content []byte) string {
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:])
}

// matches reports whether info is the file this stamp was taken of, unchanged.
func (s Stamp) matches(info *client.FileInfo) bool {
	return s.Size == info.Size() && s.Mode == info.Mode() && s.ModTime.Equal(info.ModTime())
}

// fileSync is what syncing the files found and did.
type fileSync struct {
	// pushed lists the paths written, in the order given, but quiet files.
	pushed []string
	// quiet lists the quiet files written.
	quiet []string
	// newestKept is the newest modification time of the files left alone (as
	// Pebble reports it, truncated to the second). A running service that
	// started before it has not read them: a previous Apply pushed them and
	// died before restarting.
	newestKept time.Time
	// stamps are the files known current, for the next Apply (see Stamp).
	stamps map[string]Stamp
}

// syncFiles pushes the files that are missing or differ in content or mode,
// and leaves the others untouched. It lists each folder once, and pulls a
// file back only when neither its listing nor a stamp settles the question.
func (w *Workload) syncFiles(files []File, known map[string]Stamp) (fileSync, error) {
	s := fileSync{stamps: map[string]Stamp{}}
	checked := w.clock().Truncate(time.Second) // before any listing: see Stamp
	listings := map[string]map[string]*client.FileInfo{}
	for _, f := range files {
		dir := path.Dir(f.Path)
		listing, ok := listings[dir]
		if !ok {
			var err error
			if listing, err = w.listDir(dir); err != nil {
				return s, err
			}
			listings[dir] = listing
		}
		same, err := w.fileIsCurrent(f, listing[path.Base(f.Path)], known[f.Path])
		if err != nil {
			return s, err
		}
		if info := listing[path.Base(f.Path)]; same {
			if !f.Quiet && info.ModTime().After(s.newestKept) {
				s.newestKept = info.ModTime()
			}
			if checked.After(info.ModTime()) {
				s.stamps[f.Path] = Stamp{Sum: digest(f.Content), Size: info.Size(), Mode: info.Mode(), ModTime: info.ModTime()}
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
		if f.Quiet {
			s.quiet = append(s.quiet, f.Path)
		} else {
			s.pushed = append(s.pushed, f.Path)
		}
	}
	return s, nil
}

// clock is the time stamps are checked against.
func (w *Workload) clock() time.Time {
	if w.now != nil {
		return w.now()
	}
	return time.Now()
}

// listDir lists a folder's entries by name; a missing folder has none.
func (w *Workload) listDir(dir string) (map[string]*client.FileInfo, error) {
	infos, err := w.pebble.ListFiles(&client.ListFilesOptions{Path: dir})
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot list %s: %w", dir, notReady(err))
	}
	out := make(map[string]*client.FileInfo, len(infos))
	for _, info := range infos {
		out[info.Name()] = info
	}
	return out, nil
}

// fileIsCurrent reports whether f is in place with the wanted content and
// mode, given its listing (nil when missing) and the stamp an earlier Apply
// left for it (zero when none). The content is pulled only when the size and
// mode match and no stamp vouches for what the file holds.
func (w *Workload) fileIsCurrent(f File, info *client.FileInfo, stamp Stamp) (bool, error) {
	// Ownership is set on push but not compared: Pebble reports the first
	// name of the owner's uid, and an image where another user shares the
	// uid (ubuntu and kafka both 1000) would then look changed forever and
	// restart MM2 on every hook.
	if info == nil || !info.Mode().IsRegular() || info.Mode().Perm() != f.perm() ||
		info.Size() != int64(len(f.Content)) {
		return false, nil
	}
	if stamp.Sum != "" && stamp.matches(info) {
		return stamp.Sum == digest(f.Content), nil
	}
	var buf bytes.Buffer
	err := w.pebble.Pull(&client.PullOptions{Path: f.Path, Target: &buf})
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot pull %s: %w", f.Path, notReady(err))
	}
	return bytes.Equal(buf.Bytes(), f.Content), nil
}

// isNotFound reports whether err is Pebble saying the path does not exist.
func isNotFound(err error) bool {
	var perr *client.Error
	return errors.As(err, &perr) && perr.Kind == client.ErrorKindNotFound
}
