// Package exporter is the migration exporter: a long-running process in the workload container,
// beside MM2, that measures the migration on an interval with the very code `juju status` uses
// (package migration) and serves the figures on /metrics for Prometheus. A hook measures only
// when it runs; the exporter makes the same exact figures continuous.
//
// It is the charm's own binary in another mode (`mirrormaker-k8s export`), pushed into the
// container by the charm. Its configuration is a file the charm renders (Config, no password)
// and MM2's own 0600 secrets file, both read again every interval: a new password, a change of
// leader or a cutover phase takes effect without a restart, and no secret is ever in its argv
// or environment.
package exporter

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"
)

// Where the exporter lives in the workload container and what it listens on.
const (
	// Port is the exporter's HTTP port (MM2's JMX exporter has 9099).
	Port = 9098
	// ConfigPath is the file the charm renders for it.
	ConfigPath = "/etc/kafka/mm2-exporter.json"
	// BinDir holds the binary the charm pushes; nothing else is kept there.
	BinDir = "/opt/mirrormaker-k8s/bin"
	// DefaultInterval is how often the active exporter measures when Config says nothing.
	DefaultInterval = 15 * time.Second
)

// Cutover phases, as mirrormaker_cutover_phase reports them.
const (
	PhaseNone      = 0
	PhaseConsumers = 1 // a consumers phase wrote the groups' exact offsets
	PhaseProducers = 2 // the producers phase proved the copy: the migration is complete
)

// Config is what the charm tells the exporter. It holds no secret: passwords are read from
// SecretsPath, MM2's secrets file.
type Config struct {
	// Active is true on the one unit that measures (the leader); the others export only that
	// they are not, so that a scrape of every unit never multiplies the Kafka requests.
	Active bool `json:"active"`
	// Mirroring is true while the charm wants MM2 to run: alerts on MM2 being down use it.
	Mirroring bool `json:"mirroring"`
	// CutoverPhase is the last cutover phase completed (Phase*).
	CutoverPhase int `json:"cutover-phase"`
	// IntervalSeconds is the time between two measurements; 0 is DefaultInterval.
	IntervalSeconds int `json:"interval-seconds"`
	// SecretsPath is MM2's secrets file, read with mm2.ReadSecrets.
	SecretsPath string `json:"secrets-path"`
	// Source and Target are nil until the charm can reach them.
	Source *Cluster `json:"source,omitempty"`
	Target *Cluster `json:"target,omitempty"`
	// Flow is what MM2 replicates, as the charm measures it.
	Flow mm2.Flow `json:"flow"`
}

// Cluster is how to reach one side, without its password.
type Cluster struct {
	Alias            string   `json:"alias"`
	BootstrapServers []string `json:"bootstrap-servers"`
	SecurityProtocol string   `json:"security-protocol"`
	Mechanism        string   `json:"mechanism"`
	Username         string   `json:"username"`
	CA               string   `json:"ca,omitempty"` // PEM; empty trusts the system's roots
}

// Interval is the time between two measurements.
func (c Config) Interval() time.Duration {
	if c.IntervalSeconds <= 0 {
		return DefaultInterval
	}
	return time.Duration(c.IntervalSeconds) * time.Second
}

// Marshal renders c as the charm pushes it: the same bytes for the same Config, so the charm
// pushes the file only when something changed.
func (c Config) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cannot render the exporter's config: %w", err)
	}
	return append(data, '\n'), nil
}

// settings is one reading of the exporter's two files.
type settings struct {
	Config
	source, target *kafka.Access // nil when Config has no such side
}

// load reads the config and, when a side is configured, its password from the secrets file.
func load(path string) (settings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return settings{}, fmt.Errorf("cannot read the exporter's config: %w", err)
	}
	var s settings
	if err := json.Unmarshal(data, &s.Config); err != nil {
		return settings{}, fmt.Errorf("cannot parse the exporter's config %s: %w", path, err)
	}
	if !s.Active || (s.Source == nil && s.Target == nil) {
		return s, nil // a standby measures nothing: it needs no password
	}
	if s.SecretsPath == "" {
		return settings{}, errors.New("cannot read passwords: the exporter's config names no secrets file")
	}
	secrets, err := os.ReadFile(s.SecretsPath)
	if err != nil {
		return settings{}, fmt.Errorf("cannot read passwords: %w", err)
	}
	passwords, err := mm2.ReadSecrets(secrets)
	if err != nil {
		return settings{}, err
	}
	if s.source, err = access(s.Source, passwords); err != nil {
		return settings{}, err
	}
	if s.target, err = access(s.Target, passwords); err != nil {
		return settings{}, err
	}
	return s, nil
}

// access is how to reach c, with its password; a cluster whose password the secrets file lacks
// is an error, never a login without one.
func access(c *Cluster, passwords map[string]string) (*kafka.Access, error) {
	if c == nil {
		return nil, nil
	}
	password, ok := passwords[c.Alias]
	if !ok {
		return nil, fmt.Errorf("cannot read the password of cluster %q: the secrets file has none", c.Alias)
	}
	return &kafka.Access{
		BootstrapServers: c.BootstrapServers,
		SecurityProtocol: c.SecurityProtocol,
		Mechanism:        c.Mechanism,
		Username:         c.Username,
		Password:         password,
		CA:               c.CA,
	}, nil
}
