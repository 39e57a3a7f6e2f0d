package hookstest

// Output formats and argument forms the hook tools share: --format yaml/json
// rendering, key=value arguments and --file settings.

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// render prints a tool's output: JSON for --format=json, else Juju's
// "smart" format, close enough for a person reading it.
func render(format string, out any) []byte {
	if out == nil {
		return nil
	}
	if raw, ok := out.(rawOutput); ok {
		return raw
	}
	if format == "json" {
		b, _ := json.Marshal(out)
		return append(b, '\n')
	}
	switch v := out.(type) {
	case string:
		return []byte(v + "\n")
	case bool:
		if v {
			return []byte("True\n")
		}
		return []byte("False\n")
	case []string:
		if len(v) == 0 {
			return nil
		}
		return []byte(strings.Join(v, "\n") + "\n")
	case map[string]string:
		var b strings.Builder
		for _, k := range sortedKeys(v) {
			fmt.Fprintf(&b, "%s: %s\n", k, v[k])
		}
		return []byte(b.String())
	}
	b, _ := json.Marshal(out)
	return append(b, '\n')
}

// rawOutput is printed as is, whatever the format.
type rawOutput []byte

// keyValues reads "key=value" arguments, as relation-set and state-set take.
func keyValues(args []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, usagef("expected \"key=value\", got %q", a)
		}
		out[k] = v
	}
	return out, nil
}

// settingsArgs reads what relation-set and state-set are given: the --file
// content ("-" for stdin), then key=value arguments over it.
func settingsArgs(c *call) (map[string]string, error) {
	settings := map[string]string{}
	if f, ok := c.flags["file"]; ok {
		b := c.stdin
		if f != "-" {
			var err error
			if b, err = os.ReadFile(f); err != nil {
				return nil, failf("cannot read settings file: %v", err)
			}
		}
		var err error
		if settings, err = readSettings(b); err != nil {
			return nil, err
		}
	}
	kv, err := keyValues(c.args)
	if err != nil {
		return nil, err
	}
	for k, v := range kv {
		settings[k] = v
	}
	return settings, nil
}

// readSettings decodes a --file payload: a JSON (YAML-compatible) object
// whose values are strings.
func readSettings(b []byte) (map[string]string, error) {
	out := map[string]string{}
	if len(strings.TrimSpace(string(b))) == 0 {
		return out, nil
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, failf("cannot parse settings: expected a map of strings")
	}
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			out[k] = v
		case nil:
			out[k] = ""
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out, nil
}
