// Package sandbox is the local world the charm is tested and demonstrated
// in: it composes real Kafka clusters (package localkafka), units in pods
// with a real Pebble (package pods) and a simulator of Juju (package
// jujusim) into the flow a user runs, and nothing ships uses it.
//
// It holds the juju-like CLI that cmd/sandbox wraps (up, deploy, relate,
// config, run, status, ... over a state dir, so that every verb can be its
// own process), the narrated demo of a whole migration, and the end-to-end
// tests, which run the shipped charm binary, real Pebble and real MirrorMaker
// 2 against two real Kafka clusters: only Juju is simulated.
//
// The arrows point one way: sandbox uses jujusim and localkafka; jujusim uses
// pods; localkafka and pods use neither each other nor the simulator.
package sandbox
