package charm

// Side is one end of the migration: the cluster copied from or the one copied to. It names the
// relation endpoint and the side's options (source-tls-ca, target-alias), so code that handles
// either side takes a Side rather than a free string that could be any endpoint. It is a string
// type so its value is the word users read in statuses and option names.
type Side string

// The two sides; their values are the endpoint names in metadata.yaml.
const (
	Source Side = SourceEndpoint
	Target Side = TargetEndpoint
)

// String is the side's word: "source" or "target".
func (s Side) String() string { return string(s) }

// Endpoint is the relation endpoint through which Charmed Kafka offers this side.
func (s Side) Endpoint() string { return string(s) }

// Option names the side's config option with the given suffix: Source.Option("tls-ca") is
// "source-tls-ca".
func (s Side) Option(suffix string) string { return string(s) + "-" + suffix }
