package hookstest

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// toolError is a failed tool call: Juju prints "ERROR <msg>" and exits with
// code 2 for bad usage, 1 for everything else.
type toolError struct {
	code int
	msg  string
}

func (e *toolError) Error() string { return e.msg }

func failf(format string, a ...any) error {
	return &toolError{code: 1, msg: fmt.Sprintf(format, a...)}
}

func usagef(format string, a ...any) error {
	return &toolError{code: 2, msg: fmt.Sprintf(format, a...)}
}

// call is one parsed tool invocation.
type call struct {
	unit  string
	tool  string
	flags map[string]string // canonical flag name -> value ("true" for bools)
	args  []string
	stdin []byte
}

func (c *call) has(name string) bool { _, ok := c.flags[name]; return ok }

// flagDef declares one flag: its canonical name and whether it takes a value.
type flagDef struct {
	name  string
	value bool
}

// toolDef is one hook tool: its flags (by every spelling) and what it does.
type toolDef struct {
	flags map[string]flagDef
	run   func(m *Model, c *call) (any, error)
}

var (
	formatFlag   = map[string]flagDef{"format": {"format", true}}
	relationFlag = map[string]flagDef{"r": {"relation", true}, "relation": {"relation", true}}
	appFlag      = map[string]flagDef{"app": {"app", false}}
	fileFlag     = map[string]flagDef{"file": {"file", true}}
)

func flags(sets ...map[string]flagDef) map[string]flagDef {
	out := map[string]flagDef{}
	for _, s := range sets {
		for k, v := range s {
			out[k] = v
		}
	}
	return out
}

func boolFlags(names ...string) map[string]flagDef {
	out := map[string]flagDef{}
	for _, n := range names {
		out[n] = flagDef{n, false}
	}
	return out
}

// tools is every hook tool the model answers. It is filled in init so that
// the tool functions may refer to the table.
var tools map[string]toolDef

func init() {
	tools = map[string]toolDef{
		"config-get":              {flags(formatFlag, boolFlags("all", "a")), configGet},
		"is-leader":               {formatFlag, isLeader},
		"relation-ids":            {formatFlag, relationIDs},
		"relation-list":           {flags(formatFlag, relationFlag, appFlag), relationList},
		"relation-get":            {flags(formatFlag, relationFlag, appFlag), relationGet},
		"relation-set":            {flags(formatFlag, relationFlag, appFlag, fileFlag), relationSet},
		"secret-get":              {flags(formatFlag, boolFlags("refresh", "peek"), map[string]flagDef{"label": {"label", true}}), secretGet},
		"status-set":              {boolFlags("application"), statusSet},
		"status-get":              {flags(formatFlag, boolFlags("application", "include-data")), statusGet},
		"application-version-set": {nil, applicationVersionSet},
		"action-get":              {formatFlag, actionGet},
		"action-set":              {nil, actionSet},
		"action-fail":             {nil, actionFail},
		"action-log":              {nil, actionLog},
		"juju-log":                {flags(formatFlag, boolFlags("debug"), map[string]flagDef{"l": {"log-level", true}, "log-level": {"log-level", true}}), jujuLog},
		"network-get":             {flags(formatFlag, relationFlag, boolFlags("bind-address", "ingress-address", "egress-subnets", "primary-address")), networkGet},
		"open-port":               {map[string]flagDef{"endpoints": {"endpoints", true}}, openPort},
		"close-port":              {map[string]flagDef{"endpoints": {"endpoints", true}}, closePort},
		"opened-ports":            {flags(formatFlag, boolFlags("endpoints")), openedPorts},
		"state-get":               {flags(formatFlag, boolFlags("strict")), stateGet},
		"state-set":               {fileFlag, stateSet},
		"state-delete":            {nil, stateDelete},
	}
}

// Tools lists the hook tools Exec answers, for the simulator's multi-call
// binary to link.
func Tools() []string { return sortedKeys(tools) }

// Exec runs one hook tool as unit would in a hook, with Juju's argument
// parsing, output and error texts: stderr "ERROR ..." and exit 1 on
// failure, exit 2 on bad usage, 127 for a tool Juju does not have.
func (m *Model) Exec(unit, tool string, args []string, stdin []byte) (stdout []byte, stderr []byte, exitCode int) {
	def, ok := tools[tool]
	if !ok {
		return nil, []byte(tool + ": command not found\n"), 127
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.isUnit(unit) {
		return nil, []byte(fmt.Sprintf("ERROR unit %q not found\n", unit)), 1
	}
	c, err := parse(def.flags, args)
	if err == nil {
		c.unit, c.tool, c.stdin = unit, tool, stdin
		var out any
		out, err = def.run(m, c)
		if err == nil {
			return render(c.flags["format"], out), nil, 0
		}
	}
	code := 1
	if te, ok := err.(*toolError); ok {
		code = te.code
	}
	return nil, []byte("ERROR " + err.Error() + "\n"), code
}

// parse reads args the way Juju's gnuflag does: flags and positional
// arguments may mix, "--" ends the flags, a lone "-" is positional.
func parse(defs map[string]flagDef, args []string) (*call, error) {
	c := &call{flags: map[string]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			c.args = append(c.args, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			c.args = append(c.args, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		value, hasValue := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, value, hasValue = k, v, true
		}
		def, ok := defs[name]
		if !ok {
			return nil, usagef("flag provided but not defined: %s", strings.SplitN(a, "=", 2)[0])
		}
		if !def.value {
			on := true
			if hasValue {
				var err error
				if on, err = strconv.ParseBool(value); err != nil {
					return nil, usagef("invalid value %q for flag %s", value, a)
				}
			}
			if on {
				c.flags[def.name] = "true"
			} else {
				delete(c.flags, def.name)
			}
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, usagef("flag needs an argument: %s", a)
			}
			i++
			value = args[i]
		}
		c.flags[def.name] = value
	}
	if f, ok := c.flags["format"]; ok && f != "json" && f != "yaml" && f != "smart" {
		return nil, usagef("invalid value %q for option --format: unknown format %q", f, f)
	}
	return c, nil
}

// noArgs fails like Juju's cmd.CheckEmpty when args are left over.
func noArgs(args []string) error {
	if len(args) > 0 {
		b, _ := json.Marshal(args)
		return usagef("unrecognized args: %s", b)
	}
	return nil
}

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

func sortedUnique(in []string) []string {
	out := append([]string{}, in...)
	sort.Strings(out)
	return out
}
