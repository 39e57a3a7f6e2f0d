package charm

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSideNamesItsEndpointAndOptions(t *testing.T) {
	tests := []struct {
		side                Side
		word, endpoint, opt string
		alias, ca           string
	}{
		{Source, "source", SourceEndpoint, "source-tls-ca", "old", "secret:src"},
		{Target, "target", TargetEndpoint, "target-tls-ca", "new", "secret:tgt"},
	}
	cfg := config{sourceAlias: "old", targetAlias: "new", sourceCA: "secret:src", targetCA: "secret:tgt"}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			assert.Equal(t, tt.word, tt.side.String())
			assert.Equal(t, tt.endpoint, tt.side.Endpoint())
			assert.Equal(t, tt.opt, tt.side.Option("tls-ca"))
			assert.Equal(t, tt.alias, cfg.alias(tt.side))
			assert.Equal(t, tt.ca, cfg.ca(tt.side))
		})
	}
}
