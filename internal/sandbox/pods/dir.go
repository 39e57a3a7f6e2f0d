package pods

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// WorkloadUser is the workload user of the Charmed Kafka rock, which every
// pod's passwd names (the host's stays untouched); the charm's
// layer runs MM2 as it.
const WorkloadUser = "kafka"

// preparePodDir creates the folders a pod binds over the host's paths, and
// passwd/group copies of the host's that name the kafka user.
func preparePodDir(dir, kafkaHome string) error {
	for _, sub := range []string{"charm", "charm-root/containers/" + Container, "etc-kafka", "opt-kafka", "var-log-kafka", "opt-mirrormaker-k8s", "pebble"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("cannot create pod dir: %w", err)
		}
	}
	if kafkaHome != "" {
		if _, err := os.Stat(filepath.Join(kafkaHome, "bin")); err != nil {
			return fmt.Errorf("cannot use kafka home %s: %w", kafkaHome, err)
		}
	}
	uid, gid, err := writeUserFiles(dir)
	if err != nil {
		return err
	}
	for _, sub := range []string{"etc-kafka", "var-log-kafka"} {
		if err := os.Chown(filepath.Join(dir, sub), uid, gid); err != nil {
			return fmt.Errorf("cannot chown pod dir: %w", err)
		}
	}
	return nil
}

// writeUserFiles writes dir/passwd and dir/group: the host's files plus a
// kafka user and group (uid/gid 1000 when free) unless the host has them.
func writeUserFiles(dir string) (uid, gid int, err error) {
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return 0, 0, fmt.Errorf("cannot read /etc/passwd: %w", err)
	}
	group, err := os.ReadFile("/etc/group")
	if err != nil {
		return 0, 0, fmt.Errorf("cannot read /etc/group: %w", err)
	}
	users := parseIDFile(string(passwd), 2)
	groups := parseIDFile(string(group), 2)

	gid, haveGroup := groups.ids[WorkloadUser]
	if !haveGroup {
		gid = groups.free(1000)
		group = appendLine(group, fmt.Sprintf("%s:x:%d:", WorkloadUser, gid))
	}
	uid, haveUser := users.ids[WorkloadUser]
	if !haveUser {
		uid = users.free(1000)
		passwd = appendLine(passwd, fmt.Sprintf("%s:x:%d:%d::/nonexistent:/usr/sbin/nologin", WorkloadUser, uid, gid))
	}
	if err := os.WriteFile(filepath.Join(dir, "passwd"), passwd, 0o644); err != nil {
		return 0, 0, fmt.Errorf("cannot write pod passwd: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "group"), group, 0o644); err != nil {
		return 0, 0, fmt.Errorf("cannot write pod group: %w", err)
	}
	return uid, gid, nil
}

type idFile struct {
	ids  map[string]int
	used map[int]bool
}

// parseIDFile reads name -> id from a passwd- or group-style file, where
// field is the index of the numeric id.
func parseIDFile(content string, field int) idFile {
	f := idFile{ids: map[string]int{}, used: map[int]bool{}}
	for _, line := range strings.Split(content, "\n") {
		parts := strings.Split(line, ":")
		if len(parts) <= field {
			continue
		}
		id, err := strconv.Atoi(parts[field])
		if err != nil {
			continue
		}
		f.ids[parts[0]] = id
		f.used[id] = true
	}
	return f
}

// free returns want if no entry uses it, else the next unused id above it.
func (f idFile) free(want int) int {
	for f.used[want] {
		want++
	}
	return want
}

func appendLine(content []byte, line string) []byte {
	if len(content) > 0 && content[len(content)-1] != '\n' {
		content = append(content, '\n')
	}
	return append(content, line+"\n"...)
}

// ensureMountPoint creates an empty mount point on the host when the path is
// missing: a bind mount needs one. Existing paths are left as they are.
func ensureMountPoint(path string, file bool) error {
	if _, err := os.Lstat(path); err == nil {
		return nil
	}
	if file {
		return fmt.Errorf("cannot bind over %s: it does not exist on the host", path)
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return fmt.Errorf("cannot create mount point %s: %w", path, err)
	}
	return nil
}
