package migration

import (
	"context"
	"testing"
	"time"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/mm2"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGivenRealClustersWhenPreflightThenEveryProblemIsFound runs the
// preflight against two real brokers: a source whose brokers take records
// up to 2,000,000 bytes, and a one-broker target with Kafka's default limit
// and an authorizer (admin is a super user), so the authorized-operations
// bitfields are real in both forms: "no authorizer, everything" on the
// source, ACL-based on the target.
func TestGivenRealClustersWhenPreflightThenEveryProblemIsFound(t *testing.T) {
	srcCluster := requireKafka(t, "preflight-source", map[string]string{"message.max.bytes": "2000000"})
	tgtCluster := requireKafka(t, "preflight-target", map[string]string{
		"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
		// The CONTROLLER listener is PLAINTEXT on loopback: its principal is
		// ANONYMOUS and must be a super user for the quorum to work.
		"super.users": "User:admin;User:ANONYMOUS",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	src, tgt := newKit(t, srcCluster), newKit(t, tgtCluster)

	src.createTopic("orders", 3, false)
	src.createTopic("plain", 1, false)
	require.NoError(t, src.CreateTopic("big", 1, map[string]string{"max.message.bytes": "3000000"}))
	tgt.createTopic("old.orders", 2, false)
	src.waitTopics("orders", "plain", "big")
	tgt.waitTopics("old.orders")
	src.commit("reader", map[kafka.TopicPartition]int64{tp("orders", 0): 0})
	src.commit("console-consumer-1", map[kafka.TopicPartition]int64{tp("orders", 0): 0})

	source, err := kafka.Dial(ctx, adminAccess(srcCluster))
	require.NoError(t, err)
	defer source.Close()
	target, err := kafka.Dial(ctx, adminAccess(tgtCluster))
	require.NoError(t, err)
	defer target.Close()

	flow := mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true, Filter: mm2.DefaultFilter()}
	plan, err := (&Pair{Source: source, Target: target}).Preflight(ctx, PreflightOptions{Flow: flow, ReplicationFactor: 3, InternalReplicationFactor: -1})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"target: mirrored topics: need replication factor 3, but the target has 1 broker",
		"target: topic old.orders: accepts records up to 1048588 bytes (max.message.bytes), the source topic orders up to 2000000",
		"target: topic old.orders: has 2 partitions, the source topic orders has 3: " +
			"MM2 would add partitions, so keys would no longer map to the partitions their records are in",
		"target: topic old.plain: would be created accepting records up to 1048588 bytes (the target brokers' message.max.bytes), " +
			"the source topic plain accepts up to 2000000",
	}, problemStrings(plan.Problems), "big's own limit is copied by MM2")
	assert.Equal(t, []string{"big", "orders", "plain"}, plannedNames(plan))
	assert.Equal(t, []string{"reader"}, plan.Groups)

	// A user the target's authorizer grants nothing is not an admin.
	require.NoError(t, tgtCluster.CreateUser(ctx, "relation-9", "pw-relation-9"))
	restricted := adminAccess(tgtCluster)
	restricted.Username, restricted.Password = "relation-9", "pw-relation-9"
	weak, err := kafka.Dial(ctx, restricted)
	require.NoError(t, err)
	defer weak.Close()
	plan, err = (&Pair{Target: weak}).Preflight(ctx, PreflightOptions{Flow: flow, ReplicationFactor: -1, InternalReplicationFactor: -1})
	require.NoError(t, err)
	assert.Contains(t, problemStrings(plan.Problems),
		"target: user: is not an admin: lacks the cluster operations Create, Alter, Describe, DescribeConfigs (relate with the admin role)")

	// A wrong password and a dead address, as the charm reports them.
	wrong := adminAccess(tgtCluster)
	wrong.Password = "not-" + wrong.Password
	_, err = kafka.Dial(ctx, wrong)
	require.Error(t, err)
	p := DialProblem("target", err)
	assert.Equal(t, "target: cluster: credentials rejected: the brokers refused the username and password", p.String())
	assert.NotContains(t, p.String(), wrong.Password)
	_, err = kafka.Dial(ctx, kafka.Access{BootstrapServers: []string{"127.0.0.1:1"}, Username: "admin", Password: "secret"})
	require.Error(t, err)
	assert.Equal(t, "source: cluster: unreachable at 127.0.0.1:1 (connect: connection refused)", DialProblem("source", err).String())
}

// TestGivenCleanSetupWhenPreflightThenNoProblemAndExactFigures: a topic
// MM2 would create with its own (copied) limit, replication factors the
// one-broker target can place, and figures checked against the sandbox Kit
// (sarama's admin client: another implementation of DescribeLogDirs).
func TestGivenCleanSetupWhenPreflightThenNoProblemAndExactFigures(t *testing.T) {
	c := requireKafka(t, "preflight-clean", nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k := newKit(t, c)
	k.createTopic("clean", 2, false)
	k.createTopic("skipped", 1, false)
	k.waitTopics("clean", "skipped")
	k.fill("clean", 0, 20)
	k.fill("clean", 1, 7)
	k.fill("skipped", 0, 5)
	k.commit("reader", map[kafka.TopicPartition]int64{tp("clean", 0): 3})

	cl, err := kafka.Dial(ctx, adminAccess(c))
	require.NoError(t, err)
	defer cl.Close()
	info, err := cl.DescribeCluster(ctx)
	require.NoError(t, err)
	assert.Empty(t, kafka.MissingOps(info.ClusterOps, requiredClusterOps["target"]...), "no authorizer: every operation")
	assert.NotEqual(t, kafka.OpsUnknown, info.ClusterOps, "the broker filled the bitfield")

	flow := mm2.Flow{SourceAlias: "old", TargetAlias: "new", Prefix: true, Filter: mm2.Filter{Topics: []string{"clean"}, Groups: []string{".*"}}}
	plan, err := (&Pair{Source: cl, Target: cl}).Preflight(ctx, PreflightOptions{Flow: flow, ReplicationFactor: 1, InternalReplicationFactor: 1})
	require.NoError(t, err)
	assert.Empty(t, plan.Problems)

	want, err := k.TopicBytes("clean")
	require.NoError(t, err)
	require.Positive(t, want)
	assert.Equal(t, []PlannedTopic{{Source: "clean", Target: "old.clean", Partitions: 2, Bytes: want}}, plan.Topics)
	assert.Equal(t, 2, plan.Partitions)
	assert.Equal(t, want, plan.Bytes)
	assert.Equal(t, []string{"reader"}, plan.Groups)
}

func plannedNames(p Plan) []string {
	var out []string
	for _, t := range p.Topics {
		out = append(out, t.Source)
	}
	return out
}
