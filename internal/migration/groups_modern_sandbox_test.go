package migration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/kafka"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// TestGivenAConsumerProtocolGroupWhenDescribedThenItsMembersCount: Kafka
// 4's consumers join groups with the consumer protocol (KIP-848), which the
// classic DescribeGroups answers with GROUP_ID_NOT_FOUND. A live member of
// such a group must block the consumers' cutover as any other would, and
// once it stops the group must read as empty, not as an error. Run on
// Kafka 4 (make test's second line); skipped on 3.9, where the protocol is
// not generally available.
func TestGivenAConsumerProtocolGroupWhenDescribedThenItsMembersCount(t *testing.T) {
	d, err := localkafka.FindKafkaDist()
	if err == nil && !strings.HasPrefix(d.Version, "4.") {
		t.Skipf("the consumer group protocol needs Kafka 4, this is %s (make test runs it on Kafka 4 too)", d.Version)
	}
	c := requireKafka(t, "kip848", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	k := newKit(t, c)
	k.createTopic("orders", 2, false)
	k.fill("orders", 0, 10)
	k.fill("orders", 1, 5)

	member := startModernConsumer(t, c, d, "modern", "orders")
	eventually(t, ctx, "the consumer-protocol group to commit everything", func() bool {
		offs, err := k.GroupOffsets("modern", "orders", 2)
		return err == nil && offs[0] == 10 && offs[1] == 5
	})

	cl := mustDial(t, ctx, c)
	meta, err := cl.Metadata(ctx)
	require.NoError(t, err)
	describe := func() groupsInfo {
		errs := &itemErrors{}
		info := newSide("source", cl, meta, errs).describeGroups(ctx, []string{"modern", "never-seen"})
		require.Empty(t, errs.sorted())
		return info
	}
	info := describe()
	require.NoError(t, info.states["modern"].Err)
	assert.Equal(t, 1, info.states["modern"].Members, "the live member: %+v", info.states["modern"])
	assert.Equal(t, "Stable", info.states["modern"].State)
	require.NoError(t, info.states["never-seen"].Err, "a group that does not exist is idle, not an error")
	assert.Equal(t, map[kafka.TopicPartition]int64{tp("orders", 0): 10, tp("orders", 1): 5}, info.offsets["modern"].Offsets)

	require.NoError(t, member.Process.Signal(syscall.SIGTERM))
	_ = member.Wait()
	eventually(t, ctx, "the member to leave", func() bool {
		st := describe().states["modern"]
		return st.Err == nil && st.Members == 0
	})
	assert.Equal(t, "Empty", describe().states["modern"].State)

	// An empty consumer-protocol group takes offsets written from outside,
	// as the cutover writes them on the target.
	require.NoError(t, (&Pair{Target: cl}).WriteGroupOffsets(ctx, "modern", []TargetOffset{{Topic: "orders", Partition: 0, Offset: 3}}))
	require.NoError(t, (&Pair{Target: cl}).WriteGroupOffsets(ctx, "never-seen", []TargetOffset{{Topic: "orders", Partition: 1, Offset: 2}}))
}

// startModernConsumer runs testdata/ModernConsumer.java against c, its
// credentials in the environment.
func startModernConsumer(t *testing.T, c *localkafka.Cluster, d localkafka.KafkaDist, group, topic string) *exec.Cmd {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("testdata", "ModernConsumer.java"))
	require.NoError(t, err)
	cmd := exec.Command("java", "-cp", filepath.Join(d.Home, "libs", "*"), src, c.Bootstrap, group, topic)
	cmd.Env = append(os.Environ(), "KAFKA_USER="+c.Admin.Username, "KAFKA_PASSWORD="+c.Admin.Password)
	cmd.Stdout, cmd.Stderr = testWriter{t}, testWriter{t}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

// testWriter logs a process's output lines to the test.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Log("consumer: " + l)
	}
	return len(p), nil
}

// eventually polls cond every 200ms until it holds, failing the test at
// ctx's deadline.
func eventually(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}
