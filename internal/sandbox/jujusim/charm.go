package jujusim

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"mirrormaker-k8s/internal/sandbox/pods"
)

// charmMeta is what the simulator needs from a .charm: config defaults and
// types, action param defaults, the container and peer endpoint names.
type charmMeta struct {
	Config     map[string]configOption
	Actions    map[string]map[string]any // action -> param defaults
	Container  string
	Peer       string
	Containers []string
}

type configOption struct {
	Type    string `yaml:"type"`
	Default any    `yaml:"default"`
}

// readCharm reads metadata.yaml, config.yaml and actions.yaml from the
// .charm zip at path.
func readCharm(path string) (*charmMeta, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open charm %s: %w", path, err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	hasDispatch := false
	for _, f := range zr.File {
		switch f.Name {
		case "dispatch":
			hasDispatch = true
		case "metadata.yaml", "config.yaml", "actions.yaml":
			data, err := readZipFile(f)
			if err != nil {
				return nil, err
			}
			files[f.Name] = data
		}
	}
	if !hasDispatch {
		return nil, fmt.Errorf("cannot use charm %s: no dispatch", path)
	}
	var meta struct {
		Containers map[string]any `yaml:"containers"`
		Peers      map[string]any `yaml:"peers"`
	}
	var config struct {
		Options map[string]configOption `yaml:"options"`
	}
	var actions map[string]struct {
		Params map[string]struct {
			Default any `yaml:"default"`
		} `yaml:"params"`
	}
	for name, out := range map[string]any{"metadata.yaml": &meta, "config.yaml": &config, "actions.yaml": &actions} {
		if err := yaml.Unmarshal(files[name], out); err != nil {
			return nil, fmt.Errorf("cannot parse charm %s: %w", name, err)
		}
	}
	c := &charmMeta{Config: config.Options, Actions: map[string]map[string]any{}, Container: pods.Container, Peer: "cluster"}
	for name := range meta.Containers {
		c.Containers = append(c.Containers, name)
	}
	sort.Strings(c.Containers)
	if len(c.Containers) > 0 && !slices.Contains(c.Containers, pods.Container) {
		c.Container = c.Containers[0]
	}
	for name := range meta.Peers {
		c.Peer = name
	}
	for name, a := range actions {
		defaults := map[string]any{}
		for p, spec := range a.Params {
			if spec.Default != nil {
				defaults[p] = spec.Default
			}
		}
		c.Actions[name] = defaults
	}
	if c.Config == nil {
		c.Config = map[string]configOption{}
	}
	return c, nil
}

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("cannot read charm file %s: %w", f.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("cannot read charm file %s: %w", f.Name, err)
	}
	return data, nil
}

// unpackCharm extracts the .charm zip into dir, replacing what was there,
// keeping file modes and making dispatch executable.
func unpackCharm(path, dir string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("cannot open charm %s: %w", path, err)
	}
	defer zr.Close()
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("cannot clear charm dir: %w", err)
	}
	for _, f := range zr.File {
		dst := filepath.Join(dir, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(dst, filepath.Clean(dir)+string(os.PathSeparator)) {
			return fmt.Errorf("cannot unpack charm: bad path %q", f.Name)
		}
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return fmt.Errorf("cannot unpack charm: %w", err)
			}
			continue
		}
		data, err := readZipFile(f)
		if err != nil {
			return err
		}
		mode := f.Mode().Perm()
		if mode == 0 {
			mode = 0o644
		}
		if f.Name == "dispatch" || strings.HasPrefix(f.Name, "hooks/") {
			mode |= 0o755
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("cannot unpack charm: %w", err)
		}
		if err := os.WriteFile(dst, data, mode); err != nil {
			return fmt.Errorf("cannot unpack charm: %w", err)
		}
	}
	return nil
}

// configValue converts a CLI string to the type config.yaml declares for
// key, as `juju config` does.
func (c *charmMeta) configValue(key, value string) (any, error) {
	opt, ok := c.Config[key]
	if !ok {
		return nil, fmt.Errorf("cannot set config %q: unknown option", key)
	}
	switch opt.Type {
	case "int":
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("cannot set config %q: %w", key, err)
		}
		return n, nil
	case "float":
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("cannot set config %q: %w", key, err)
		}
		return f, nil
	case "boolean":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return nil, fmt.Errorf("cannot set config %q: %w", key, err)
		}
		return b, nil
	}
	return value, nil
}

// defaults returns config.yaml's defaults; options without one are unset,
// as in Juju.
func (c *charmMeta) defaults() map[string]any {
	out := map[string]any{}
	for k, o := range c.Config {
		if o.Default != nil {
			out[k] = o.Default
		}
	}
	return out
}
