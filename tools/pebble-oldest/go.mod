// The oldest Pebble daemon a supported Juju runs in the workload container:
// Juju 3.6.0 (metadata.yaml: juju >= 3.6) ships Pebble v1.16.0. Tests build it
// from here, so the layer the charm writes is checked against its parser,
// which rejects a whole layer over one field it does not know.
module mirrormaker-k8s/tools/pebble-oldest

go 1.24

tool github.com/canonical/pebble/cmd/pebble

require (
	github.com/canonical/go-flags v0.0.0-20230403090104-105d09a091b8 // indirect
	github.com/canonical/pebble v1.16.0 // indirect
	github.com/canonical/x-go v0.0.0-20230522092633-7947a7587f5b // indirect
	github.com/gorilla/mux v1.8.1 // indirect
	github.com/gorilla/websocket v1.5.1 // indirect
	github.com/pkg/term v1.1.0 // indirect
	golang.org/x/net v0.26.0 // indirect
	golang.org/x/sys v0.21.0 // indirect
	golang.org/x/term v0.21.0 // indirect
	gopkg.in/tomb.v2 v2.0.0-20161208151619-d5d1b5820637 // indirect
	gopkg.in/yaml.v2 v2.4.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
