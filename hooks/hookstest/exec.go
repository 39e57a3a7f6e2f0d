package hookstest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
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

// toolDef is one hook tool: its flags (by every spelling), its grammar
// (what Juju's Init refuses whatever the model holds) and what it does.
type toolDef struct {
	flags map[string]flagDef
	check func(c *call) error
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
		"config-get":              {flags(formatFlag, boolFlags("all", "a")), maxArgs(1), configGet},
		"is-leader":               {formatFlag, maxArgs(0), isLeader},
		"relation-ids":            {formatFlag, maxArgs(1), relationIDs},
		"relation-list":           {flags(formatFlag, relationFlag, appFlag), maxArgs(0), relationList},
		"relation-get":            {flags(formatFlag, relationFlag, appFlag), maxArgs(2), relationGet},
		"relation-set":            {flags(formatFlag, relationFlag, appFlag, fileFlag), checkKeyValues, relationSet},
		"secret-get":              {flags(formatFlag, boolFlags("refresh", "peek"), map[string]flagDef{"label": {"label", true}}), checkSecretGet, secretGet},
		"status-set":              {boolFlags("application"), checkStatusSet, statusSet},
		"status-get":              {flags(formatFlag, boolFlags("application", "include-data")), maxArgs(0), statusGet},
		"application-version-set": {nil, checkOneArg("no version specified"), applicationVersionSet},
		"action-get":              {formatFlag, maxArgs(1), actionGet},
		"action-set":              {nil, checkActionSet, actionSet},
		"action-fail":             {nil, maxArgs(1), actionFail},
		"action-log":              {nil, minArgs(1, "no message specified"), actionLog},
		"juju-log":                {flags(formatFlag, boolFlags("debug"), map[string]flagDef{"l": {"log-level", true}, "log-level": {"log-level", true}}), minArgs(1, "no message specified"), jujuLog},
		"network-get":             {flags(formatFlag, relationFlag, boolFlags("bind-address", "ingress-address", "egress-subnets", "primary-address")), checkOneArg("no arguments specified"), networkGet},
		"open-port":               {map[string]flagDef{"endpoints": {"endpoints", true}}, checkPort, openPort},
		"close-port":              {map[string]flagDef{"endpoints": {"endpoints", true}}, checkPort, closePort},
		"opened-ports":            {flags(formatFlag, boolFlags("endpoints")), maxArgs(0), openedPorts},
		"state-get":               {flags(formatFlag, boolFlags("strict")), maxArgs(1), stateGet},
		"state-set":               {fileFlag, checkKeyValues, stateSet},
		"state-delete":            {nil, checkOneArg("invalid args, require <key>"), stateDelete},
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
	c, err := parseCall(def, args)
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

// Validate checks one invocation against the tool's grammar alone: the
// options Juju defines for it, parsed as gnuflag does, and the arguments its
// Init accepts (statuses, action-set keys, relation ids, key=value forms,
// ports). It needs no model, so a test can hold every invocation a charm
// made to the rule, including those whose failure the charm ignored.
func Validate(tool string, args []string) error {
	def, ok := tools[tool]
	if !ok {
		return fmt.Errorf("%s: not a hook tool", tool)
	}
	_, err := parseCall(def, args)
	return err
}

// parseCall parses args and checks them against def's grammar.
func parseCall(def toolDef, args []string) (*call, error) {
	c, err := parse(def.flags, args)
	if err != nil {
		return nil, err
	}
	if ref, ok := c.flags["relation"]; ok {
		if _, err := relationNumber(ref); err != nil {
			return nil, err
		}
	}
	if def.check != nil {
		if err := def.check(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// relationNumber reads a -r value as Juju's relationIdValue does: the
// number after the last colon ("source:3" or "3"); the endpoint name is not
// checked by Juju.
func relationNumber(ref string) (int, error) {
	num := ref
	if i := strings.LastIndex(ref, ":"); i >= 0 {
		num = ref[i+1:]
	}
	id, err := strconv.Atoi(num)
	if err != nil {
		return 0, usagef("invalid value %q for option -r: invalid relation id", ref)
	}
	return id, nil
}

// parse reads args the way Juju's gnuflag does with interspersed flags:
// "--name" or "--name=value" is a long option, "-abc" a cluster of
// one-letter options (a value option takes the rest of the cluster or the
// next argument), "--" ends the options and a lone "-" is positional.
// Juju's hook tools call options "option" in their errors.
func parse(defs map[string]flagDef, args []string) (*call, error) {
	c := &call{flags: map[string]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-" || a == "" || a[0] != '-' {
			c.args = append(c.args, a)
			continue
		}
		if a == "--" {
			c.args = append(c.args, args[i+1:]...)
			break
		}
		if a[1] == '-' {
			name, value, hasValue := strings.Cut(a[2:], "=")
			if hasValue && name == "" {
				return nil, usagef("empty option in argument %q", a)
			}
			def, ok := defs[name]
			if !ok {
				return nil, usagef("option provided but not defined: %s", flagWithMinus(name))
			}
			if !def.value && !hasValue {
				c.flags[def.name] = "true"
				continue
			}
			if !def.value {
				on, err := strconv.ParseBool(value)
				if err != nil {
					return nil, usagef("invalid value %q for option %s: %v", value, flagWithMinus(name), err)
				}
				if on {
					c.flags[def.name] = "true"
				} else {
					delete(c.flags, def.name)
				}
				continue
			}
			if !hasValue {
				var err error
				if value, err = nextWord(args, &i, name); err != nil {
					return nil, err
				}
			}
			c.flags[def.name] = value
			continue
		}
		for rest := a[1:]; rest != ""; {
			r, n := utf8.DecodeRuneInString(rest)
			name := string(r)
			rest = rest[n:]
			def, ok := defs[name]
			if !ok {
				return nil, usagef("option provided but not defined: %s", flagWithMinus(name))
			}
			if !def.value {
				c.flags[def.name] = "true"
				continue
			}
			value := rest
			if rest == "" {
				var err error
				if value, err = nextWord(args, &i, name); err != nil {
					return nil, err
				}
			}
			c.flags[def.name] = value
			break
		}
	}
	if f, ok := c.flags["format"]; ok && f != "json" && f != "yaml" && f != "smart" {
		return nil, usagef("invalid value %q for option --format: unknown format %q", f, f)
	}
	return c, nil
}

// nextWord takes a value option's argument from the word after args[*i].
func nextWord(args []string, i *int, name string) (string, error) {
	if *i+1 >= len(args) {
		return "", usagef("option needs an argument: %s", flagWithMinus(name))
	}
	*i++
	return args[*i], nil
}

// flagWithMinus spells an option as gnuflag does in errors.
func flagWithMinus(name string) string {
	if len(name) > 1 {
		return "--" + name
	}
	return "-" + name
}

// noArgs fails like Juju's cmd.CheckEmpty when args are left over.
func noArgs(args []string) error {
	if len(args) > 0 {
		b, _ := json.Marshal(args)
		return usagef("unrecognized args: %s", b)
	}
	return nil
}

func sortedUnique(in []string) []string {
	out := append([]string{}, in...)
	sort.Strings(out)
	return out
}
