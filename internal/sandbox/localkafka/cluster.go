package localkafka

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"mirrormaker-k8s/internal/sandbox/internal/freeport"
)

// ClusterOptions describe one sandbox Kafka cluster.
type ClusterOptions struct {
	// Name labels the cluster in errors and client ids ("old", "new").
	Name string
	// Dir holds everything of the cluster: server.properties, data/, logs/,
	// broker.out, each in node-<id>/ when there are several nodes. Required; a
	// test passes t.TempDir().
	Dir string
	// Nodes is how many KRaft combined-mode nodes (broker and controller) the
	// cluster runs; default 1. With three, topics default to replication
	// factor 3 and min.insync.replicas 2, as in production, and one node at a
	// time may restart (RestartNode) without the cluster losing its quorum.
	Nodes int
	// AdminPassword is the password of the "admin" user created at format
	// time; generated when empty. It must be alphanumeric: it is written into
	// a JAAS string and passed to the storage tool. Hostile passwords belong
	// to users made with CreateUser.
	AdminPassword string
	// ServerProperties override or add broker settings.
	ServerProperties map[string]string
	// StartTimeout bounds formatting plus startup; default 90 s (two JVMs on
	// two cores can be slow), 60 s more per node beyond the first.
	StartTimeout time.Duration
	// Detached lets the broker outlive the process that started it (for a
	// long-lived demo). Otherwise the kernel kills the broker when its parent
	// dies, so a crashed test leaves no JVM behind. Only with one node.
	Detached bool
	// TLS, when set, adds a SASL_SSL listener (Cluster.TLSBootstrap) with a
	// certificate for 127.0.0.1 and localhost signed by TLS.Authority. Only
	// with one node.
	TLS *ClusterTLS
}

// Cluster is one running Kafka cluster of KRaft combined-mode nodes listening
// on 127.0.0.1 with SASL_PLAINTEXT SCRAM-SHA-512, started from a KafkaDist.
type Cluster struct {
	Name string
	// Bootstrap is the client addresses, 127.0.0.1:port, one per node and
	// comma-separated (as the kafka_client relation's endpoints); Addrs
	// splits it.
	Bootstrap string
	// TLSBootstrap is the SASL_SSL client address (host:port, the host as
	// ClusterTLS.Host says), or "" without TLS.
	TLSBootstrap string
	// TLSMisnamed is a second SASL_SSL address, on an IP the certificate does
	// not name: a client that checks names must refuse it.
	TLSMisnamed string
	// CAPEM is the CA that signed the SASL_SSL listener's certificate.
	CAPEM string
	// Admin is the user created at format time.
	Admin Credentials
	Dist  KafkaDist
	Dir   string
	// Pid is the first node's JVM pid (and process group id) as started.
	Pid int

	nodes    []*node
	java     string
	stopOnce sync.Once
	stopErr  error
}

// stopGrace is how long Stop lets a node shut down cleanly before SIGKILL;
// a node normally needs a few seconds.
const stopGrace = 30 * time.Second

var alnum = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// StartCluster formats the KRaft nodes in o.Dir and starts them, returning
// once a SCRAM-authenticated admin request sees every node as a broker and a
// controller elected. Each node runs in its own process group with output in
// its broker.out; if one dies while starting the error carries its log's tail.
//
// The admin password is on the argv of the short-lived storage-format
// process (--add-scram); that is acceptable only because it is a generated
// sandbox password. Every other secret goes through server.properties (0600)
// or the Kafka API.
func StartCluster(ctx context.Context, d KafkaDist, o ClusterOptions) (*Cluster, error) {
	if err := o.complete(); err != nil {
		return nil, err
	}
	if err := d.check(); err != nil {
		return nil, fmt.Errorf("cannot start cluster %s: %w", o.Name, err)
	}
	java, err := javaBin()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.StartTimeout)
	defer cancel()
	c, err := layOut(d, o)
	if err != nil {
		return nil, err
	}
	c.java = java
	clusterID := newClusterID()
	for _, n := range c.nodes {
		if err := n.formatOnce(ctx, d, java, clusterID, o.AdminPassword); err != nil {
			return nil, fmt.Errorf("cannot start cluster %s: %w", c.Name, err)
		}
	}
	for _, n := range c.nodes {
		if err := n.start(d, java, o.Detached); err != nil {
			c.Kill()
			return nil, fmt.Errorf("cannot start cluster %s: %w", c.Name, err)
		}
	}
	c.Pid = c.nodes[0].running().pid
	if err := c.waitReady(ctx); err != nil {
		c.Kill()
		return nil, err
	}
	return c, nil
}

// complete fills in o's defaults and refuses what StartCluster cannot run.
func (o *ClusterOptions) complete() error {
	if o.Dir == "" {
		return errors.New("cannot start cluster: no Dir")
	}
	if o.Name == "" {
		o.Name = "kafka"
	}
	if o.Nodes == 0 {
		o.Nodes = 1
	}
	if o.Nodes < 1 || (o.Nodes > 1 && (o.TLS != nil || o.Detached)) {
		return fmt.Errorf("cannot start cluster %s: %d nodes (TLS and Detached need exactly one)", o.Name, o.Nodes)
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 90*time.Second + time.Duration(o.Nodes-1)*time.Minute
	}
	if o.AdminPassword == "" {
		o.AdminPassword = randomAlnum(24)
	} else if !alnum.MatchString(o.AdminPassword) {
		return errors.New("cannot start cluster: admin password must be alphanumeric")
	}
	return nil
}

// layOut prepares o.Dir for the nodes (data dirs, free ports, TLS listener,
// server.properties and logging configs) and returns the cluster they will
// be, not yet running.
func layOut(d KafkaDist, o ClusterOptions) (*Cluster, error) {
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("cannot start cluster %s: %w", o.Name, err)
	}
	ports := make([][2]int, o.Nodes) // client, controller
	voters := make([]string, o.Nodes)
	for i := range ports {
		for j := range ports[i] {
			if ports[i][j], err = freeport.Pick(); err != nil {
				return nil, err
			}
		}
		voters[i] = fmt.Sprintf("%d@127.0.0.1:%d", i+1, ports[i][1])
	}
	c := &Cluster{
		Name:  o.Name,
		Admin: Credentials{Username: "admin", Password: o.AdminPassword},
		Dist:  d,
		Dir:   dir,
	}
	addrs := make([]string, o.Nodes)
	for i, p := range ports {
		n := &node{id: i + 1, dir: dir, addr: fmt.Sprintf("127.0.0.1:%d", p[0])}
		if o.Nodes > 1 {
			n.dir = filepath.Join(dir, fmt.Sprintf("node-%d", n.id))
		}
		if err := os.MkdirAll(filepath.Join(n.dir, "data"), 0o700); err != nil {
			return nil, fmt.Errorf("cannot create %s: %w", n.dir, err)
		}
		extra := o.ServerProperties
		if o.TLS != nil {
			if extra, c.TLSBootstrap, c.TLSMisnamed, err = withTLSListener(o, p[0], p[1]); err != nil {
				return nil, fmt.Errorf("cannot start cluster %s: %w", o.Name, err)
			}
			c.CAPEM = o.TLS.Authority.CAPEM
		}
		props := serverProperties(nodeLayout{id: n.id, port: p[0], controllerPort: p[1], voters: strings.Join(voters, ","),
			nodes: o.Nodes, dataDir: filepath.Join(n.dir, "data")}, o.AdminPassword, extra)
		if n.logFlags, err = writeBrokerFiles(n.dir, props); err != nil {
			return nil, err
		}
		c.nodes = append(c.nodes, n)
		addrs[i] = n.addr
	}
	c.Bootstrap = strings.Join(addrs, ",")
	return c, nil
}

// Addrs is Bootstrap as a list, as Kafka clients take it.
func (c *Cluster) Addrs() []string { return strings.Split(c.Bootstrap, ",") }

// withTLSListener returns o's broker settings plus the SASL_SSL listeners
// on free ports (o.ServerProperties still win), and their addresses.
func withTLSListener(o ClusterOptions, port, cport int) (props map[string]string, bootstrap, misnamed string, err error) {
	sslPort, err := freeport.Pick()
	if err != nil {
		return nil, "", "", err
	}
	misnamedPort, err := freeport.Pick()
	if err != nil {
		return nil, "", "", err
	}
	host := o.TLS.Host
	if host == "" {
		host = "127.0.0.1"
	}
	chain, key, err := o.TLS.Authority.issue("127.0.0.1", "localhost")
	if err != nil {
		return nil, "", "", err
	}
	props = tlsServerProperties(port, sslPort, misnamedPort, cport, o.AdminPassword, chain, key, host)
	for k, v := range o.ServerProperties {
		props[k] = v
	}
	return props, net.JoinHostPort(host, strconv.Itoa(sslPort)),
		net.JoinHostPort(misnamedHost, strconv.Itoa(misnamedPort)), nil
}

// newClusterID is a Kafka cluster id: 16 random bytes, URL-safe base64
// without padding, as Uuid.randomUuid().toString(). Like Kafka, it never
// starts with '-', which the tool's argument parser would take for a flag.
func newClusterID() string {
	for {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		if id := base64.RawURLEncoding.EncodeToString(b); id[0] != '-' {
			return id
		}
	}
}

func randomAlnum(n int) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, n)
	for i := range out {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(letters))))
		out[i] = letters[k.Int64()]
	}
	return string(out)
}

// replicas is the replication factor of the cluster's topics: one per node,
// at most 3. A Cluster rebuilt from a record (the CLI's) has no nodes here
// and is a single node.
func (c *Cluster) replicas() int16 { return int16(min(max(len(c.nodes), 1), 3)) }
