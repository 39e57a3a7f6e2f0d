package mm2

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlowMirrorsTopicsAsMM2Does(t *testing.T) {
	prefix := Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true, Filter: DefaultFilter()}
	identity := prefix
	identity.Prefix = false
	only := prefix
	only.Filter = Filter{Topics: []string{"orders", "pay.*"}, TopicsExclude: []string{"payments-dlq"}}
	anyTopic := prefix
	anyTopic.Filter = Filter{Topics: []string{".*"}}

	for _, tc := range []struct {
		flow  Flow
		topic string
		want  bool
	}{
		{prefix, "orders", true},
		{prefix, "__consumer_offsets", false},                           // Kafka internal (and excluded)
		{prefix, ".hidden", false},                                      // Kafka internal
		{prefix, "mm2-offsets.old.internal", false},                     // MM2 internal
		{prefix, "old.checkpoints.internal", false},                     // MM2 internal
		{prefix, "app-internal", false},                                 // default exclude .*[\-\.]internal
		{prefix, "orders.replica", false},                               // default exclude
		{prefix, "new.orders", false},                                   // came from the target: a cycle
		{prefix, "x.new.orders", false},                                 // a cycle one hop up
		{prefix, "other.orders", true},                                  // remote from a third cluster
		{prefix, "heartbeats", true},                                    // heartbeats, whatever the filter
		{identity, "new.orders", true},                                  // identity: dots mean nothing
		{identity, "new.heartbeats", false},                             // but heartbeats keep their source
		{only, "orders", true},                                          // whole-name match ...
		{only, "orders2", false},                                        // ... not a prefix match
		{only, "myorders", false},                                       // ... nor a suffix match
		{only, "payments", true},                                        // second pattern of the list
		{only, "payments-dlq", false},                                   // excluded
		{only, "heartbeats", true},                                      // MM2 always mirrors heartbeats
		{only, "mm2-configs.old.internal", false},                       // internal, even if listed
		{anyTopic, "app-changelog-internal", false},                     // Connect's "-internal", whatever the filter
		{anyTopic, "streams.internal", false},                           // and ".internal"
		{anyTopic, "app_internal", true},                                // but not "_internal"
		{Flow{SourceAlias: "old", TargetAlias: "new"}, "orders", false}, // empty include matches nothing
	} {
		m, err := tc.flow.Filter.Compile()
		require.NoError(t, err)
		assert.Equal(t, tc.want, m.Mirrored(tc.flow, tc.topic), "topic %q (prefix=%v, topics=%v)", tc.topic, tc.flow.Prefix, tc.flow.Filter.Topics)
	}
}

func TestFilterSelectsGroupsAsMM2Does(t *testing.T) {
	def, err := DefaultFilter().Compile()
	require.NoError(t, err)
	some, err := Filter{Groups: []string{"billing", " shop-.* "}, GroupsExclude: []string{"shop-test"}}.Compile()
	require.NoError(t, err)
	for _, tc := range []struct {
		m     *Matcher
		group string
		want  bool
	}{
		{def, "billing", true},
		{def, "console-consumer-123", false},
		{def, "connect-mm2", false},
		{def, "__internal", false},
		{some, "billing", true},
		{some, "billing2", false},
		{some, "shop-eu", true},
		{some, "shop-test", false},
	} {
		assert.Equal(t, tc.want, tc.m.Group(tc.group), tc.group)
	}
}

func TestFilterRejectsInvalidRegex(t *testing.T) {
	_, err := Filter{Topics: []string{"(unclosed"}}.Compile()
	assert.ErrorContains(t, err, "cannot compile topics filter")
}

func TestFlowNames(t *testing.T) {
	f := Flow{SourceAlias: "old", Prefix: true}
	assert.Equal(t, "mm2-offsets.old.internal", f.ConnectOffsetsTopic())
	assert.Equal(t, "old.checkpoints.internal", f.CheckpointsTopic())
	assert.Equal(t, "old.orders", f.TargetTopic("orders"))
	f.Prefix = false
	assert.Equal(t, "orders", f.TargetTopic("orders"))
	assert.Equal(t, "old.app-heartbeats", f.TargetTopic("app-heartbeats"), "identity prefixes heartbeats, as MM2 does")
	assert.Equal(t, "old.heartbeats", f.TargetTopic("heartbeats"))
}
