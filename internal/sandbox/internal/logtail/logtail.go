// Package logtail gives the end of a log file, for the message of a failed
// command or test: the broker's, MM2's or Pebble's last words are usually
// why.
package logtail

import (
	"fmt"
	"os"
	"strings"
)

// Of is the last n lines of the file at path, under a header naming it; a
// file that cannot be read says so instead.
func Of(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "--- " + path + " (tail) ---\n" + strings.Join(lines, "\n")
}
