package hookstest

import (
	"regexp"
	"strings"
)

// The argument rules of Juju's hook tools (worker/uniter/runner/jujuc/*.go,
// each command's Init), apart from what only the model can answer.

// maxArgs fails like cmd.CheckEmpty once n positional arguments are used.
func maxArgs(n int) func(c *call) error {
	return func(c *call) error {
		if len(c.args) > n {
			return noArgs(c.args[n:])
		}
		return nil
	}
}

// minArgs fails with msg when fewer than n positional arguments are given.
func minArgs(n int, msg string) func(c *call) error {
	return func(c *call) error {
		if len(c.args) < n {
			return usagef("%s", msg)
		}
		return nil
	}
}

// checkOneArg requires exactly one positional argument.
func checkOneArg(missing string) func(c *call) error {
	return func(c *call) error {
		if len(c.args) == 0 {
			return usagef("%s", missing)
		}
		return noArgs(c.args[1:])
	}
}

// checkStatusSet: <maintenance|blocked|waiting|active> [message].
func checkStatusSet(c *call) error {
	if len(c.args) == 0 {
		return usagef("invalid args, require <status> [message]")
	}
	if !contains(settableStatuses, c.args[0]) {
		return usagef("invalid status %q, expected one of [%s]", c.args[0], strings.Join(settableStatuses, " "))
	}
	return maxArgs(2)(c)
}

// checkKeyValues: relation-set and state-set take key=value arguments.
func checkKeyValues(c *call) error {
	_, err := keyValues(c.args)
	return err
}

// secretURI is what core/secrets.ParseURI accepts: "secret:ID",
// "secret://MODEL-UUID/ID" or a bare ID, the ID 20 characters of xid's
// base32 alphabet.
var secretURI = regexp.MustCompile(`^(secret:(//[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}/)?)?[0-9a-v]{20}$`)

// checkSecretGet: <ID> [key] or --label, never both --peek and --refresh;
// output only as yaml or json (secret-get has no "smart" format).
func checkSecretGet(c *call) error {
	if f, ok := c.flags["format"]; ok && f != "json" && f != "yaml" {
		return usagef("invalid value %q for option --format: unknown format %q", f, f)
	}
	if len(c.args) > 0 && !secretURI.MatchString(c.args[0]) {
		return usagef("secret URI %q not valid", c.args[0])
	}
	if len(c.args) == 0 && c.flags["label"] == "" {
		return usagef("require either a secret URI or label")
	}
	if c.has("refresh") && c.has("peek") {
		return usagef("specify one of --peek or --refresh but not both")
	}
	return maxArgs(2)(c)
}

// checkPort: <port>[/<protocol>], <from>-<to>[/<protocol>] or icmp.
func checkPort(c *call) error {
	_, err := portArg(c)
	return err
}
