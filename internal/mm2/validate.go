package mm2

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"mirrormaker-k8s/internal/kafka"
)

// InputError says which field of Input cannot be rendered and why. The charm branches on it to
// block with a message the operator can act on, rather than failing the hook.
type InputError struct {
	Field   string // Go path of the field, e.g. "Source.BootstrapServers"
	Problem string // never contains a password
}

func (e *InputError) Error() string {
	return fmt.Sprintf("cannot render MirrorMaker 2 config: %s %s", e.Field, e.Problem)
}

func invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// aliasPattern keeps aliases usable in property keys, in "a->b" flow prefixes and in the names
// of the internal topics MM2 derives from them (mm2-offsets.<alias>.internal).
var aliasPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// reservedAliases are the first words of top-level keys that MM2 reads: an alias equal to one
// would turn those keys into that cluster's settings (e.g. alias "offset" captures
// offset.lag.max and offset.storage.*).
var reservedAliases = map[string]bool{
	"clusters": true, "config": true, "dedicated": true, "listeners": true, "rest": true,
	"offset": true, "offset-syncs": true, "replication": true, "tasks": true, "task": true,
	"checkpoints": true, "heartbeats": true, "status": true, "sync": true, "emit": true,
	"refresh": true, "topics": true, "groups": true, "key": true, "value": true, "header": true,
	"worker": true, "source": true, "target": true, "producer": true, "consumer": true, "admin": true,
	"security": true, "sasl": true, "ssl": true, "bootstrap": true, "enabled": true,
}

var hostnamePattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)

var logLevels = map[string]bool{"ERROR": true, "WARN": true, "INFO": true, "DEBUG": true, "TRACE": true}

func validate(in Input) error {
	if err := validateCluster("Source", in.Source); err != nil {
		return err
	}
	if err := validateCluster("Target", in.Target); err != nil {
		return err
	}
	if in.Source.Alias == in.Target.Alias {
		return invalid("Target.Alias", "equals Source.Alias %q: MM2 needs two distinct aliases", in.Source.Alias)
	}
	if err := validateSettings(in.Settings); err != nil {
		return err
	}
	if !validHost(in.UnitAddress) {
		return invalid("UnitAddress", "%q is not an IP address or host name", in.UnitAddress)
	}
	return nil
}

func validateCluster(name string, c Cluster) error {
	switch {
	case c.Alias == "":
		return invalid(name+".Alias", "is empty")
	case !aliasPattern.MatchString(c.Alias):
		return invalid(name+".Alias", "%q may hold only letters, digits, '-' and '_'", c.Alias)
	case reservedAliases[strings.ToLower(c.Alias)]:
		return invalid(name+".Alias", "%q is a word MirrorMaker 2 reads as a setting", c.Alias)
	}
	if len(c.BootstrapServers) == 0 {
		return invalid(name+".BootstrapServers", "is empty")
	}
	for _, s := range c.BootstrapServers {
		host, port, err := net.SplitHostPort(s)
		if err != nil || !validHost(host) || !validPort(port) {
			return invalid(name+".BootstrapServers", "holds %q, which is not host:port", s)
		}
	}
	if c.SecurityProtocol != kafka.SASLPlaintext && c.SecurityProtocol != kafka.SASLSSL {
		return invalid(name+".SecurityProtocol", "%q is not %s or %s", c.SecurityProtocol, kafka.SASLPlaintext, kafka.SASLSSL)
	}
	if _, ok := loginModules[c.Mechanism]; !ok {
		return invalid(name+".Mechanism", "%q is not %s, %s or %s", c.Mechanism, kafka.ScramSHA512, kafka.ScramSHA256, kafka.Plain)
	}
	if c.Username == "" {
		return invalid(name+".Username", "is empty")
	}
	if !utf8.ValidString(c.Username) {
		return invalid(name+".Username", "is not valid UTF-8")
	}
	if c.Password == "" {
		return invalid(name+".Password", "is empty")
	}
	if !utf8.ValidString(c.Password) {
		return invalid(name+".Password", "is not valid UTF-8")
	}
	if c.SecurityProtocol == kafka.SASLSSL && c.CA != "" {
		if _, err := caPEM(c.CA); err != nil {
			return invalid(name+".CA", "%v", err)
		}
	}
	return nil
}

func validateSettings(s Settings) error {
	const f = "Settings."
	// Fields are checked in a fixed order so that the same input always names the same field.
	for _, l := range []struct {
		field string
		list  []string
	}{{"Topics", s.Topics}, {"TopicsExclude", s.TopicsExclude}, {"Groups", s.Groups}, {"GroupsExclude", s.GroupsExclude}} {
		field := l.field
		for _, p := range l.list {
			if err := CheckPattern(p); err != nil {
				return invalid(f+field, "holds %q, which %v", p, err)
			}
		}
	}
	if s.ReplicationPolicy != PolicyIdentity && s.ReplicationPolicy != PolicyPrefix {
		return invalid(f+"ReplicationPolicy", "%q is not %s or %s", s.ReplicationPolicy, PolicyIdentity, PolicyPrefix)
	}
	if s.TasksMax < 1 {
		return invalid(f+"TasksMax", "is %d; it must be at least 1", s.TasksMax)
	}
	for _, n := range []namedInt{{"ReplicationFactor", s.ReplicationFactor}, {"InternalReplFactor", s.InternalReplFactor}} {
		// MM2 holds these as Java shorts; -1 asks the broker for its default.
		if n.value != -1 && (n.value < 1 || n.value > 32767) {
			return invalid(f+n.field, "is %d; it must be -1 or between 1 and 32767", n.value)
		}
	}
	switch s.ExactlyOnce {
	case ExactlyOnceDisabled, ExactlyOncePreparing, ExactlyOnceEnabled:
	default:
		return invalid(f+"ExactlyOnce", "%q is not %s, %s or %s", s.ExactlyOnce,
			ExactlyOnceDisabled, ExactlyOncePreparing, ExactlyOnceEnabled)
	}
	for _, n := range []namedInt{
		{"OffsetFlushIntervalSeconds", s.OffsetFlushIntervalSeconds},
		{"CheckpointIntervalSeconds", s.CheckpointIntervalSeconds},
		{"SyncGroupOffsetsIntervalSeconds", s.SyncGroupOffsetsIntervalSeconds},
		{"RefreshTopicsIntervalSeconds", s.RefreshTopicsIntervalSeconds},
		{"RefreshGroupsIntervalSeconds", s.RefreshGroupsIntervalSeconds},
		{"SyncTopicConfigsIntervalSeconds", s.SyncTopicConfigsIntervalSeconds},
	} {
		// A non-positive interval would silently disable the task in MM2.
		if n.value < 1 {
			return invalid(f+n.field, "is %d; it must be at least 1", n.value)
		}
	}
	if !slices.Contains(Compressions, s.Compression) {
		return invalid(f+"Compression", "%q is not one of %s", s.Compression, strings.Join(Compressions, ", "))
	}
	if s.OffsetLagMax < 0 {
		return invalid(f+"OffsetLagMax", "is %d; it must not be negative", s.OffsetLagMax)
	}
	if !logLevels[strings.ToUpper(s.LogLevel)] {
		return invalid(f+"LogLevel", "%q is not ERROR, WARN, INFO, DEBUG or TRACE", s.LogLevel)
	}
	return nil
}

type namedInt struct {
	field string
	value int
}

func validHost(h string) bool {
	return net.ParseIP(h) != nil || hostnamePattern.MatchString(h)
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// caBlocks returns the CERTIFICATE blocks of ca, dropping anything between them, or an error if
// ca holds another kind of block or none (Charmed Kafka's 3 track has sent the word "enabled"
// as its CA).
func caBlocks(ca string) ([]*pem.Block, error) {
	var blocks []*pem.Block
	rest := []byte(ca)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("holds a PEM %q block; only CERTIFICATE blocks are accepted", block.Type)
		}
		blocks = append(blocks, block)
	}
	if blocks == nil {
		return nil, fmt.Errorf("holds no PEM certificate")
	}
	return blocks, nil
}

// caPEM returns the certificates of ca re-encoded as PEM, dropping anything between them.
func caPEM(ca string) ([]byte, error) {
	blocks, err := caBlocks(ca)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, b := range blocks {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes})...)
	}
	return out, nil
}

// CheckCA reports why pemText cannot serve as a trust anchor: it must hold at least one PEM
// CERTIFICATE block, nothing else, and every block must parse as an X.509 certificate. A CA the
// user typed is checked this strictly so that a bad one is named in the status, not found later
// in a handshake that only says "unknown authority".
func CheckCA(pemText string) error {
	blocks, err := caBlocks(pemText)
	if err != nil {
		return err
	}
	for i, b := range blocks {
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("certificate %d cannot be parsed: %w", i+1, err)
		}
	}
	return nil
}

// CheckPattern says why p cannot be one entry of a topics or groups list
// as MM2 reads it, nil when it can. The charm checks its options with it,
// so that it names the option before Render would refuse.
func CheckPattern(p string) error {
	switch {
	case strings.TrimSpace(p) == "" || strings.Contains(p, ","):
		return errors.New("must be one non-empty regex without a comma")
	case strings.Contains(p, "${"):
		// Kafka's ConfigTransformer would take it for a ${provider:path:key} reference.
		return errors.New("must not contain ${")
	case !utf8.ValidString(p):
		return errors.New("must be valid UTF-8")
	case strings.IndexFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0:
		// Kafka trims a list value of every character up to ' ': MM2 would read
		// another pattern than the charm proves with. No topic name holds one.
		return errors.New("must not contain control characters")
	}
	return nil
}
