// Package pods gives each simulated unit a Kubernetes pod of its own, as
// Juju deploys a sidecar charm: a workload container whose real Pebble
// daemon listens at /charm/containers/<container>/pebble.socket.
//
// A pod is a mount namespace (unshare -m, so it needs root) in which /charm,
// /etc/kafka, /opt/kafka, /var/log/kafka, /etc/passwd and /etc/group are the
// pod's own folders and files, bound over the host's, which stay untouched.
// The charm and its workload therefore use the real paths and the real
// socket location; hooks run inside the pod through nsenter (Pod.Command).
// Restart and Pod.ProbeAlive do what the kubelet does to a container: probe
// Pebble's health endpoint, and on failure kill every process, lose the
// container's own filesystem and start Pebble again.
//
// It is faithful in what the charm can see (paths, socket, users, Pebble's
// API and its copy-once image layer), not in isolation: pods share the host's
// network, PID space and resources, the charm and workload containers are one
// namespace, and /opt/kafka is the host's Kafka install rather than an image.
package pods
