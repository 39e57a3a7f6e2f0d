// Package jujusim simulates Juju for one application of a Kubernetes charm,
// closely enough that the charm's real binary cannot tell: it is the only
// simulated part of the sandbox, because a Juju controller cannot run here.
//
// A Sim holds the model (config, relations and their databags, secrets,
// leadership, statuses, actions) in a JSON file that it and every hook tool
// process share under a lock; the hook tools are one multi-call binary (any
// binary linking this package) whose answers are hooks/hookstest's model's.
// It runs each unit in a pod (package pods) and fires the charm's dispatch
// there with the environment juju/juju's uniter gives a hook
// (worker/uniter/runner/context), in Juju's order: the setup hooks, relation
// created/joined/changed/departed/broken, peer changes when a hook changed a
// peer databag, secret-changed, update-status on a timer, actions as
// `juju run`. It plays Charmed Kafka's side of kafka_client (KafkaProvider),
// and a kubelet that probes every workload container as Juju 3.6 asks and
// restarts one that fails, with <container>-pebble-ready afterwards.
//
// Not simulated: other applications' units and agents (a Provider answers
// for them), controllers, storage, resources, networking beyond one loopback
// address per unit, and Juju's automatic retry of failed hooks (a later
// successful hook clears the error, as after `juju resolve`).
package jujusim
