package hookstest

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"regexp"
	"strings"
)

// secretKey is Juju's rule for the keys of a secret's content
// (core/secrets: keyRegExp): a lowercase letter, then at least two more
// lowercase letters or digits, single hyphens between them.
var secretKey = regexp.MustCompile(`^([a-z](?:-?[a-z0-9]){2,})$`)

// checkSecretKeys refuses content Juju would refuse, with Juju's words
// (`juju add-secret` prints "ERROR key "ca" not valid").
func checkSecretKeys(content map[string]string) error {
	for _, k := range sortedKeys(content) {
		if !secretKey.MatchString(k) {
			return fmt.Errorf("key %q not valid", k)
		}
	}
	return nil
}

// CreateSecret stores a secret with content as revision 1 and returns its
// URI, "secret:" plus a 20-character id derived from a counter, so runs
// repeat. Content with a key Juju would refuse is refused with Juju's words
// and nothing is stored: what `juju add-secret` and a provider's secret-add
// do, so the simulator uses it.
func (m *Model) CreateSecret(content map[string]string) (string, error) {
	if err := checkSecretKeys(content); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.NextSecret++
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%s/%d", m.ModelUUID, m.App, m.NextSecret)))
	id := strings.ToLower(base32.HexEncoding.EncodeToString(sum[:]))[:20]
	uri := "secret:" + id
	if m.Secrets == nil {
		m.Secrets = map[string]*Secret{}
	}
	m.Secrets[uri] = &Secret{Revisions: []map[string]string{copyMap(content)}}
	return uri, nil
}

// AddSecret is CreateSecret for test fixtures: content Juju would refuse is
// a mistake in the test, not a state to model, so it panics with Juju's
// message (as regexp.MustCompile does with a bad pattern).
func (m *Model) AddSecret(content map[string]string) string {
	uri, err := m.CreateSecret(content)
	if err != nil {
		panic("hookstest: cannot add secret: " + err.Error())
	}
	return uri
}

// UpdateSecret adds a revision with new content, as the owner's secret-set
// (or juju update-secret) does. Units keep seeing their revision until they
// refresh. Keys are checked as AddSecret checks them.
func (m *Model) UpdateSecret(uri string, content map[string]string) error {
	if err := checkSecretKeys(content); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.secret(uri, "")
	if s == nil {
		return fmt.Errorf("cannot update secret %q: not found", uri)
	}
	s.Revisions = append(s.Revisions, copyMap(content))
	return nil
}

// Secret returns the secret named by ref in any form Juju accepts
// ("secret:ID", "secret://MODEL/ID" or a bare ID), or nil. Secrets is keyed
// by the URI AddSecret returned; use this rather than indexing by hand.
func (m *Model) Secret(ref string) *Secret {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.secret(ref, "")
}

// Revision is the latest revision of the secret.
func (s *Secret) Revision() int { return len(s.Revisions) }

// secret finds a secret by URI (with or without the "secret:" scheme and
// model part) or, failing that, by label.
func (m *Model) secret(uri, label string) *Secret {
	if uri != "" {
		want := secretID(uri)
		for k, s := range m.Secrets {
			if secretID(k) == want {
				return s
			}
		}
		return nil
	}
	for _, k := range sortedKeys(m.Secrets) {
		if s := m.Secrets[k]; label != "" && s.Label == label {
			return s
		}
	}
	return nil
}

// secretID reduces "secret:ID", "secret://UUID/ID" and "ID" to ID.
func secretID(uri string) string {
	id := strings.TrimPrefix(uri, "secret:")
	id = strings.TrimPrefix(id, "//")
	if i := strings.LastIndex(id, "/"); i >= 0 {
		id = id[i+1:]
	}
	return id
}

// secretGet returns the revision the unit tracks; the first read, and any
// read with --refresh, moves it to the latest; --peek reads the latest
// without moving.
func secretGet(m *Model, c *call) (any, error) {
	uri, key := "", ""
	switch len(c.args) {
	case 0:
	case 1:
		uri = c.args[0]
	case 2:
		uri, key = c.args[0], c.args[1]
	default:
		return nil, noArgs(c.args[2:])
	}
	label := c.flags["label"]
	if uri == "" && label == "" {
		return nil, usagef("require either a secret URI or label")
	}
	if c.has("refresh") && c.has("peek") {
		return nil, usagef("specify one of --peek or --refresh but not both")
	}
	s := m.secret(uri, label)
	if s == nil {
		name := uri
		if name == "" {
			name = label
		}
		return nil, failf("secret %q not found", secretID(name))
	}
	if s.Denied {
		return nil, failf("permission denied")
	}
	if uri != "" && label != "" {
		s.Label = label
	}
	rev := s.Seen[c.unit]
	if rev == 0 || c.has("refresh") || c.has("peek") {
		rev = s.Revision()
	}
	if !c.has("peek") {
		if s.Seen == nil {
			s.Seen = map[string]int{}
		}
		s.Seen[c.unit] = rev
	}
	content := copyMap(s.Revisions[rev-1])
	if key != "" {
		v, ok := content[key]
		if !ok {
			return nil, failf("secret key %q not found", key)
		}
		return v, nil
	}
	return content, nil
}
