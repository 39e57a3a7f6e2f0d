package migration

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var preflightFlow = mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true, Filter: mm2.DefaultFilter()}

// preflightFixture is a clean migration about to start: three source
// brokers with two topics to mirror (and some that are not), a three-broker
// target that already holds one of them with the same partition count.
func preflightFixture() (src, tgt *preflightFake) {
	src = newPreflightFake(1, 2, 3)
	src.addTopic("orders", 3)
	src.addTopic("payments", 2)
	src.addTopic("__consumer_offsets", 5)
	src.addTopic("app-internal", 1) // excluded by .*[\-\.]internal
	src.addTopic("new.loop", 1)     // came from the target
	src.sizes[tp("orders", 0)] = 100
	src.sizes[tp("orders", 1)] = 200
	src.sizes[tp("orders", 2)] = 300
	src.sizes[tp("payments", 0)] = 5
	src.sizes[tp("payments", 1)] = 0
	src.addGroup("billing", "Empty", 0, nil)
	src.addGroup("shop", "Stable", 1, nil)
	src.addGroup("console-consumer-7", "Empty", 0, nil)

	tgt = newPreflightFake(1, 2, 3)
	tgt.addTopic("old.payments", 2)
	tgt.addTopic("__consumer_offsets", 5)
	return src, tgt
}

func runPreflight(t *testing.T, src, tgt preflightWire, opts PreflightOptions) Plan {
	t.Helper()
	if opts.Flow.SourceAlias == "" {
		opts.Flow = preflightFlow
	}
	plan, err := preflight(context.Background(), src, tgt, opts)
	require.NoError(t, err)
	return plan
}

func problemStrings(ps []Problem) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func TestGivenCleanClustersWhenPreflightThenPlanHasFiguresAndNoProblem(t *testing.T) {
	src, tgt := preflightFixture()
	plan := runPreflight(t, src, tgt, PreflightOptions{})

	assert.Empty(t, plan.Problems)
	assert.True(t, plan.OK())
	assert.Equal(t, []PlannedTopic{
		{Source: "orders", Target: "old.orders", Partitions: 3, Bytes: 600},
		{Source: "payments", Target: "old.payments", Partitions: 2, Bytes: 5, ExistsOnTarget: true},
	}, plan.Topics)
	assert.Equal(t, 5, plan.Partitions)
	assert.Equal(t, int64(605), plan.Bytes)
	assert.Equal(t, []string{"billing", "shop"}, plan.Groups)

	// Batched: one Metadata per side, one DescribeConfigs for all source
	// topics, one per target broker (each describes itself), one
	// DescribeLogDirs per source leader.
	assert.Equal(t, 1, src.calls["Metadata"])
	assert.Equal(t, 1, src.calls["DescribeConfigs"])
	assert.Equal(t, 3, src.calls["DescribeLogDirs"])
	assert.Equal(t, 1, tgt.calls["Metadata"])
	assert.Equal(t, 3, tgt.calls["DescribeConfigs"])
	assert.Zero(t, tgt.calls["DescribeLogDirs"])
	assert.Equal(t, 3, src.calls["ListGroups"])
	assert.Zero(t, tgt.calls["ListGroups"])
}

func TestGivenAProblemWhenPreflightThenItIsNamedForTheOperator(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  PreflightOptions
		setup func(src, tgt *preflightFake)
		want  []string
	}{{
		name:  "source user without Describe",
		setup: func(src, tgt *preflightFake) { src.clusterOps = opsBits(sarama.AclOperationRead) },
		want:  []string{"source: user: is not an admin: lacks the cluster operations Describe (relate with the admin role)"},
	}, {
		name: "target user without Create and Alter",
		setup: func(src, tgt *preflightFake) {
			tgt.clusterOps = opsBits(sarama.AclOperationDescribe, sarama.AclOperationDescribeConfigs)
		},
		want: []string{"target: user: is not an admin: lacks the cluster operations Create, Alter (relate with the admin role)"},
	}, {
		name:  "ALL grants everything",
		setup: func(src, tgt *preflightFake) { tgt.clusterOps = opsBits(sarama.AclOperationAll) },
	}, {
		name: "operations not reported are not held against the user",
		setup: func(src, tgt *preflightFake) {
			src.clusterOps, tgt.clusterOps = kafka.OpsUnknown, kafka.OpsUnknown
			src.topicOps["orders"] = kafka.OpsUnknown
		},
	}, {
		name: "source topic the user may not read",
		setup: func(src, tgt *preflightFake) {
			src.topicOps["orders"] = opsBits(sarama.AclOperationDescribe, sarama.AclOperationDescribeConfigs)
		},
		want: []string{"source: topic orders: the user lacks the operations Read"},
	}, {
		name:  "existing target topic the user may not write",
		setup: func(src, tgt *preflightFake) { tgt.topicOps["old.payments"] = opsBits(sarama.AclOperationDescribe) },
		want:  []string{"target: topic old.payments: the user lacks the operations Write, DescribeConfigs, AlterConfigs"},
	}, {
		name: "replication factors above the target's brokers",
		opts: PreflightOptions{ReplicationFactor: 3, InternalReplicationFactor: 3},
		setup: func(src, tgt *preflightFake) {
			tgt.brokers = []int32{1}
			tgt.addTopic("old.payments", 2)
			tgt.addTopic("__consumer_offsets", 5)
		},
		want: []string{
			"target: internal topics: need replication factor 3, but the target has 1 broker",
			"target: mirrored topics: need replication factor 3, but the target has 1 broker",
		},
	}, {
		name: "MM2's default internal replication factor is 3",
		setup: func(src, tgt *preflightFake) {
			tgt.brokers = []int32{1, 2}
			tgt.addTopic("old.payments", 2)
		},
		want: []string{"target: internal topics: need replication factor 3, but the target has 2 brokers"},
	}, {
		name: "-1 leaves the replication factor to the broker",
		opts: PreflightOptions{ReplicationFactor: -1, InternalReplicationFactor: -1},
		setup: func(src, tgt *preflightFake) {
			tgt.brokers = []int32{1}
			tgt.addTopic("old.payments", 2)
		},
	}, {
		name:  "target topic with fewer partitions",
		setup: func(src, tgt *preflightFake) { tgt.addTopic("old.orders", 2) },
		want: []string{"target: topic old.orders: has 2 partitions, the source topic orders has 3: " +
			"MM2 would add partitions, so keys would no longer map to the partitions their records are in"},
	}, {
		name:  "target topic with more partitions",
		setup: func(src, tgt *preflightFake) { tgt.addTopic("old.orders", 6) },
		want: []string{"target: topic old.orders: has 6 partitions, the source topic orders has 3: " +
			"after the cutover keys would go to other partitions than their mirrored records"},
	}, {
		name:  "identity policy compares the same names",
		opts:  PreflightOptions{Flow: mm2.Flow{SourceAlias: "old", TargetAlias: "new", Filter: mm2.DefaultFilter()}},
		setup: func(src, tgt *preflightFake) { tgt.addTopic("orders", 1) },
		want: []string{"target: topic orders: has 1 partition, the source topic orders has 3: " +
			"MM2 would add partitions, so keys would no longer map to the partitions their records are in"},
	}, {
		name: "nothing matches the filter",
		opts: PreflightOptions{Flow: mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true,
			Filter: mm2.Filter{Topics: []string{"orders.*"}, TopicsExclude: []string{"orders"}}}},
		want: []string{`source: topics: no topic to mirror: none matches topics "orders.*" without matching topics.exclude "orders"`},
	}, {
		name: "existing target topic takes smaller records",
		setup: func(src, tgt *preflightFake) {
			src.setTopicMax("payments", 2<<20)
			tgt.setTopicMax("old.payments", 1<<20)
		},
		want: []string{"target: topic old.payments: accepts records up to 1048576 bytes (max.message.bytes), the source topic payments up to 2097152"},
	}, {
		name: "new topic would take the target brokers' smaller default",
		setup: func(src, tgt *preflightFake) {
			src.brokerMax = 4 << 20 // a static broker config: MM2 does not copy it
			tgt.brokerMax = 2 << 20
		},
		want: []string{
			"target: topic old.orders: would be created accepting records up to 2097152 bytes (the target brokers' message.max.bytes), the source topic orders accepts up to 4194304",
			"target: topic old.payments: accepts records up to 2097152 bytes (max.message.bytes), the source topic payments up to 4194304",
		},
	}, {
		name: "a source topic's own limit is copied into the topic MM2 creates",
		setup: func(src, tgt *preflightFake) {
			src.setTopicMax("orders", 8<<20)
			tgt.brokerMax = 2 << 20
		},
	}, {
		name: "a partition without leader",
		setup: func(src, tgt *preflightFake) {
			src.topics["orders"][1] = kafka.PartitionMeta{ID: 1, Leader: -1, Err: sarama.ErrLeaderNotAvailable}
		},
		want: []string{"source: partition orders/1: has no leader: " + sarama.ErrLeaderNotAvailable.Error()},
	}, {
		name:  "a source topic that cannot be described",
		setup: func(src, tgt *preflightFake) { src.topicErrs["refunds"] = sarama.ErrTopicAuthorizationFailed },
		want:  []string{"source: topic refunds: cannot describe: " + sarama.ErrTopicAuthorizationFailed.Error()},
	}, {
		name:  "a source broker down",
		setup: func(src, tgt *preflightFake) { src.down[2] = errors.New("connection reset") },
		want: []string{
			"source: broker 2: cannot describe log dirs: connection reset",
			"source: broker 2: cannot list groups: connection reset",
		},
	}, {
		name:  "a target broker down",
		setup: func(src, tgt *preflightFake) { tgt.down[3] = errors.New("connection reset") },
		want:  []string{"target: broker 3: cannot describe configs: connection reset"},
	}, {
		name:  "the target cannot be described",
		setup: func(src, tgt *preflightFake) { tgt.metaErr = errors.New("i/o timeout") },
		want:  []string{"target: cluster: cannot describe: i/o timeout"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			src, tgt := preflightFixture()
			if tc.setup != nil {
				tc.setup(src, tgt)
			}
			plan := runPreflight(t, src, tgt, tc.opts)
			want := tc.want
			if want == nil {
				want = []string{}
			}
			assert.Equal(t, want, problemStrings(plan.Problems))
			assert.Equal(t, len(want) == 0, plan.OK())
		})
	}
}

func TestGivenManyProblemsWhenPreflightThenAllAreListedInOrder(t *testing.T) {
	src, tgt := preflightFixture()
	src.clusterOps = 0
	tgt.brokers = []int32{1}
	tgt.addTopic("old.payments", 2)
	tgt.addTopic("old.orders", 1)
	plan := runPreflight(t, src, tgt, PreflightOptions{ReplicationFactor: 3})
	got := problemStrings(plan.Problems)
	require.Len(t, got, 4, "%q", got)
	assert.Equal(t, "source: user: is not an admin: lacks the cluster operations Describe (relate with the admin role)", got[0])
	assert.Contains(t, got[1], "target: internal topics:")
	assert.Contains(t, got[2], "target: mirrored topics:")
	assert.Contains(t, got[3], "target: topic old.orders: has 1 partition")

	again := runPreflight(t, src, tgt, PreflightOptions{ReplicationFactor: 3})
	assert.Equal(t, plan, again, "same clusters, same plan")
}

func TestGivenAMissingSideWhenPreflightThenTheOtherIsStillChecked(t *testing.T) {
	src, tgt := preflightFixture()
	plan := runPreflight(t, src, nil, PreflightOptions{})
	assert.Empty(t, plan.Problems, "the charm reports the missing side with DialProblem")
	assert.Equal(t, 5, plan.Partitions)
	assert.Equal(t, int64(605), plan.Bytes)
	assert.False(t, plan.Topics[1].ExistsOnTarget, "unknown without a target")

	tgt.brokers = []int32{1}
	plan = runPreflight(t, nil, tgt, PreflightOptions{})
	assert.Equal(t, []string{"target: internal topics: need replication factor 3, but the target has 1 broker",
		"target: mirrored topics: need replication factor 2, but the target has 1 broker"}, problemStrings(plan.Problems))
	assert.Empty(t, plan.Topics)
}

func TestGivenNothingToCheckWhenPreflightThenError(t *testing.T) {
	src, tgt := preflightFixture()
	src.metaErr = errors.New("i/o timeout")
	tgt.metaErr = errors.New("i/o timeout")
	for _, tc := range []struct {
		name     string
		src, tgt preflightWire
		flow     mm2.Flow
		want     string
	}{
		{"no cluster", nil, nil, preflightFlow, "cannot run preflight: no cluster to check"},
		{"neither answers", src, tgt, preflightFlow, "cannot run preflight: cannot describe source cluster: i/o timeout\ncannot describe target cluster: i/o timeout"},
		{"no alias", src, tgt, mm2.Flow{}, "cannot run preflight: flow has no source alias"},
		{"bad filter", src, tgt, mm2.Flow{SourceAlias: "old", Filter: mm2.Filter{Topics: []string{"("}}}, "cannot run preflight: cannot compile topics filter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := preflight(context.Background(), tc.src, tc.tgt, PreflightOptions{Flow: tc.flow})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := (&Pair{}).Preflight(context.Background(), PreflightOptions{Flow: preflightFlow})
	assert.EqualError(t, err, "cannot run preflight: no cluster to check")
}

func TestGivenDialErrorsWhenClassifiedThenProblemNamesTheFix(t *testing.T) {
	const password = "s3cret-password"
	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 9092},
		Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	timeout := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 9092},
		Err: errors.New("i/o timeout")}
	noHost := &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "kafka-0.nowhere", IsNotFound: true}}
	dial := func(err error) error { // as Dial wraps sarama's error
		return fmt.Errorf("cannot connect to 10.0.0.1:9092,10.0.0.2:9092 as %q: %w", "relation-7", err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"wrong password", dial(sarama.Wrap(sarama.ErrSASLAuthenticationFailed, errors.New("Authentication failed due to invalid credentials with SASL mechanism SCRAM-SHA-512"))),
			"target: cluster: credentials rejected: the brokers refused the username and password"},
		{"bare KError", dial(sarama.ErrSASLAuthenticationFailed),
			"target: cluster: credentials rejected: the brokers refused the username and password"},
		{"mechanism", dial(sarama.ErrUnsupportedSASLMechanism),
			"target: cluster: credentials rejected: the brokers do not offer the SASL mechanism"},
		{"every broker down", dial(sarama.Wrap(sarama.ErrOutOfBrokers, refused, timeout, refused)),
			"target: cluster: unreachable at 10.0.0.1:9092 (connect: connection refused), 10.0.0.2:9092 (i/o timeout)"},
		{"unknown host", dial(sarama.Wrap(sarama.ErrOutOfBrokers, noHost)),
			"target: cluster: unreachable at kafka-0.nowhere (lookup kafka-0.nowhere: no such host)"},
		{"deadline", dial(context.DeadlineExceeded),
			`target: cluster: unreachable: no answer in time (cannot connect to 10.0.0.1:9092,10.0.0.2:9092 as "relation-7": context deadline exceeded)`},
		{"untrusted CA", dial(x509.UnknownAuthorityError{}),
			`target: cluster: TLS certificate not trusted: cannot connect to 10.0.0.1:9092,10.0.0.2:9092 as "relation-7": x509: certificate signed by unknown authority`},
		{"other", dial(sarama.ErrClusterAuthorizationFailed),
			`target: cluster: cannot connect to 10.0.0.1:9092,10.0.0.2:9092 as "relation-7": ` + sarama.ErrClusterAuthorizationFailed.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DialProblem("target", tc.err)
			assert.Equal(t, tc.want, p.String())
			assert.NotContains(t, p.String(), password)
		})
	}
}

func TestGivenProblemWhenPrintedThenSideItemReason(t *testing.T) {
	assert.Equal(t, "target: topic orders: has 3 partitions", Problem{"target", "topic orders", "has 3 partitions"}.String())
	assert.Equal(t, "source: unreachable", Problem{Side: "source", Reason: "unreachable"}.String())
}
