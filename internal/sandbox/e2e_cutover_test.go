package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/canonical/pebble/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/sandbox/internal/poll"
	"mirrormaker-k8s/internal/sandbox/localkafka"
)

// cutTopic is one of TestCutover's source topics (mirrored under the same
// name: identity policy) and the application group that consumes it.
type cutTopic struct {
	name       string
	partitions int32
	group      string
}

// TestCutover's topics: plain records; a transactional producer with some
// transactions aborted (MM2 reads read_committed, so neither the aborted
// records nor the markers reach the target, and the two logs' offsets part);
// a compacted topic whose repeated keys and tombstones are compacted on the
// source before MM2 copies it (the source keeps offset gaps, the copy has none).
var (
	cutPlain   = cutTopic{"cut-plain", 3, "cut-plain-app"}
	cutTxn     = cutTopic{"cut-txn", 2, "cut-txn-app"}
	cutCompact = cutTopic{"cut-compact", 2, "cut-compact-app"}
	cutTopics  = []cutTopic{cutPlain, cutTxn, cutCompact}
)

// Prefill sizes: records written before MM2 starts.
const (
	cutPlainPrefill   = 1500
	cutTxnRounds      = 24 // transactions of cutTxnRoundSize records, every 4th aborted
	cutTxnRoundSize   = 20
	cutCompactKeys    = 40 // keys written cutCompactVersions times each ...
	cutCompactVersion = 40
	cutCompactDeleted = 10   // ... the first 10 then deleted by tombstones ...
	cutCompactFiller  = 1000 // ... then records with keys of their own, so every duplicate sits in a closed segment
)

// seqWriter writes numbered records to one source topic with a sarama
// SyncProducer: record i goes to partition i % partitions with the header
// seq=i, as Kit.Produce spreads them, and a kind header; transactionally
// when made with a transactional id. It remembers the last record of each
// partition that a read_committed reader sees.
type seqWriter struct {
	topic      string
	partitions int32
	p          sarama.SyncProducer
	txn        bool
	next       int
	last       map[int32]int // partition -> seq of its last committed record
}

func newSeqWriter(t *testing.T, c *localkafka.Cluster, topic string, partitions int32, txnID string) *seqWriter {
	t.Helper()
	cfg := c.Config(c.Admin)
	cfg.ClientID = "cutover-" + topic
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1
	// Small batches: the compacted topic's segments are 32 KiB, and a broker
	// refuses a batch larger than a segment.
	cfg.Producer.Flush.MaxMessages = 20
	cfg.Producer.Transaction.ID = txnID
	p, err := sarama.NewSyncProducer(c.Addrs(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return &seqWriter{topic: topic, partitions: partitions, p: p, txn: txnID != "", last: map[int32]int{}}
}

// write sends n records, keyed by key(i) (a tombstone when del(i), del may be
// nil), in one transaction that is aborted when abort is set.
func (w *seqWriter) write(n int, key func(i int) string, del func(i int) bool, abort bool) error {
	kind := "plain"
	if w.txn {
		kind = "committed"
		if abort {
			kind = "aborted"
		}
	}
	msgs := make([]*sarama.ProducerMessage, n)
	for j := range msgs {
		i := w.next + j
		m := &sarama.ProducerMessage{Topic: w.topic, Partition: int32(i) % w.partitions, Key: sarama.StringEncoder(key(i)),
			Value: sarama.StringEncoder(fmt.Sprintf("value %d of %s (%s)", i, w.topic, kind))}
		k := kind
		if del != nil && del(i) {
			m.Value, k = nil, "tombstone"
		}
		m.Headers = []sarama.RecordHeader{{Key: []byte("seq"), Value: []byte(strconv.Itoa(i))}, {Key: []byte("kind"), Value: []byte(k)}}
		msgs[j] = m
	}
	if w.txn {
		if err := w.p.BeginTxn(); err != nil {
			return fmt.Errorf("cannot begin a transaction on %s: %w", w.topic, err)
		}
	}
	if err := w.p.SendMessages(msgs); err != nil {
		if w.txn {
			_ = w.p.AbortTxn()
		}
		return fmt.Errorf("cannot write to %s: %w", w.topic, err)
	}
	if w.txn && abort {
		if err := w.p.AbortTxn(); err != nil {
			return fmt.Errorf("cannot abort a transaction on %s: %w", w.topic, err)
		}
	} else if w.txn {
		if err := w.p.CommitTxn(); err != nil {
			return fmt.Errorf("cannot commit a transaction on %s: %w", w.topic, err)
		}
	}
	if !abort {
		for j := range n {
			i := w.next + j
			w.last[int32(i)%w.partitions] = i
		}
	}
	w.next += n
	return nil
}

func txnKey(i int) string         { return fmt.Sprintf("cut-txn-key-%07d", i) }
func compactLiveKey(i int) string { return fmt.Sprintf("cut-compact-live-%07d", i) }

// seqOf is a record's seq header.
func seqOf(t *testing.T, r localkafka.Record) int {
	t.Helper()
	n, err := strconv.Atoi(r.Headers["seq"])
	require.NoError(t, err, "record without a seq header: %s", describeRecord(r))
	return n
}

// cutPartition is one group's partition in the consumers phase's results.
type cutPartition struct {
	topic                          string
	partition                      int32
	committed, mm2, exact, replays int64
	how                            string
}

// consumerPhaseResults parses groups.N.partitions.M.* of the consumers phase.
func consumerPhaseResults(t *testing.T, r map[string]string) map[string][]cutPartition {
	t.Helper()
	out := map[string][]cutPartition{}
	num := func(k string) int64 {
		n, err := strconv.ParseInt(r[k], 10, 64)
		require.NoError(t, err, "result %s", k)
		return n
	}
	for i := 0; ; i++ {
		g := "groups." + strconv.Itoa(i) + "."
		name, ok := r[g+"name"]
		if !ok {
			break
		}
		for j := 0; ; j++ {
			k := g + "partitions." + strconv.Itoa(j) + "."
			if _, ok := r[k+"topic"]; !ok {
				break
			}
			out[name] = append(out[name], cutPartition{topic: r[k+"topic"], partition: int32(num(k + "partition")),
				committed: num(k + "source-committed"), mm2: num(k + "mm2-translation"), exact: num(k + "exact"),
				replays: num(k + "replays-avoided"), how: r[k+"how"]})
		}
	}
	return out
}

// byPartition indexes a group's results by partition.
func byPartition(ps []cutPartition) map[int32]cutPartition {
	out := map[int32]cutPartition{}
	for _, p := range ps {
		out[p.partition] = p
	}
	return out
}

// lastOffsets is, per partition, the offset of the last record read.
func lastOffsets(read map[int32][]localkafka.Record) map[int32]int64 {
	out := map[int32]int64{}
	for p, rs := range read {
		if len(rs) > 0 {
			out[p] = rs[len(rs)-1].Offset
		}
	}
	return out
}

// TestCutover is issue 5 end to end: real clusters, real MM2 on two units run
// by the shipped charm binary, real sarama consumer groups and producers. One
// migration of three topics (plain, transactional with aborts, compacted),
// then in order:
//
//   - phase=consumers fails naming "active members on the source" while an
//     application's consumer group runs on the source; once the consumers
//     stop (producers still writing), a dry run finds the exact offsets and
//     writes nothing, and the action writes them;
//   - the replays a consumer started at MM2's own translation would read
//     (records on the target between MM2's checkpoint and the exact offset,
//     each one checked to be a record the source consumer had already read)
//     equal the action's replays-avoided, and are > 0;
//   - consumers started on the target groups resume at the record after
//     their source committed offsets: 0 skipped, 0 replayed, record by record
//     against the source log;
//   - phase=producers fails naming "still written to" while the producer
//     writes; once it stops it proves the copy (per partition, the test reads
//     both sides whole and compares them), MM2 stops on every unit, the status
//     says "cutover complete", and a second run reports the same results.
func TestCutover(t *testing.T) {
	begin := time.Now()
	var names []string
	for _, tc := range cutTopics {
		names = append(names, tc.name)
	}
	m := newMigration(t, 2, map[string]any{
		"topics": strings.Join(names, ","),
		// MM2's own translation as users get it by default: an offset sync
		// every 100 records at most, so it is coarse and the exact offsets
		// avoid replays that the test can count.
		"offset-lag-max":              100,
		"checkpoint-interval":         5,
		"sync-group-offsets-interval": 5,
	})
	ctx := m.ctx

	m.createTopic(cutPlain.name, cutPlain.partitions)
	m.createTopic(cutTxn.name, cutTxn.partitions)
	require.NoError(t, m.src.CreateTopic(cutCompact.name, cutCompact.partitions, map[string]string{
		"cleanup.policy": "compact", "segment.bytes": "32768", "min.cleanable.dirty.ratio": "0.01",
	}))
	txn := newSeqWriter(t, m.source, cutTxn.name, cutTxn.partitions, "cutover-test-txn")
	comp := newSeqWriter(t, m.source, cutCompact.name, cutCompact.partitions, "")

	// Prefill, before MM2 runs.
	require.NoError(t, m.src.Produce(cutPlain.name, cutPlainPrefill))
	for r := range cutTxnRounds {
		require.NoError(t, txn.write(cutTxnRoundSize, txnKey, nil, r%4 == 3))
	}
	compactKey := func(i int) string { return fmt.Sprintf("cut-compact-key-%02d", i%cutCompactKeys) }
	require.NoError(t, comp.write(cutCompactKeys*cutCompactVersion, compactKey, nil, false))
	require.NoError(t, comp.write(cutCompactDeleted, compactKey, func(int) bool { return true }, false))
	require.NoError(t, comp.write(cutCompactFiller, compactLiveKey, nil, false))
	t.Logf("[%5.1fs] prefilled: %s %d records; %s %d transactions of %d (every 4th aborted); %s %d versions of %d keys, %d deleted, %d unique",
		time.Since(begin).Seconds(), cutPlain.name, cutPlainPrefill, cutTxn.name, cutTxnRounds, cutTxnRoundSize,
		cutCompact.name, cutCompactVersion, cutCompactKeys, cutCompactDeleted, cutCompactFiller)

	m.relate("source")
	m.relate("target")

	// Compaction on the source before MM2 copies: then every key of the
	// prefill is once on the source (deleted ones as their tombstone only),
	// the copy holds no duplicate for the target's own cleaner to remove, and
	// both sides keep the same records while the source keeps offset gaps.
	var compactedOffsets, compactedRecords int64
	err := poll.Until(ctx, 90*time.Second, time.Second, func() (bool, error) {
		recs, err := m.src.ReadAll(ctx, cutCompact.name)
		if err != nil {
			return false, err
		}
		ends, err := m.src.EndOffsets(cutCompact.name)
		if err != nil {
			return false, err
		}
		seen := map[string]bool{}
		compactedOffsets, compactedRecords = 0, 0
		for p, rs := range recs {
			compactedOffsets += ends[p]
			compactedRecords += int64(len(rs))
			for _, r := range rs {
				if strings.HasPrefix(r.Key, "cut-compact-key-") {
					if seen[r.Key] {
						return false, nil
					}
					seen[r.Key] = true
				}
			}
		}
		return true, nil
	}, "the source's log cleaner to compact "+cutCompact.name)
	require.NoError(t, err)
	t.Logf("[%5.1fs] %s compacted on the source: %d offsets hold %d records (every key once, %d tombstones kept)",
		time.Since(begin).Seconds(), cutCompact.name, compactedOffsets, compactedRecords, cutCompactDeleted)
	require.Less(t, compactedRecords, compactedOffsets)

	m.startMigration()
	m.waitMirroring()
	t.Logf("[%5.1fs] MM2 mirroring on every unit", time.Since(begin).Seconds())
	// MM2 copies the prefill (the copies are dense: count = end - start):
	// then the consumers phase waits for the consumers, not for MM2's start.
	copiedPrefill := map[string]int64{cutPlain.name: cutPlainPrefill,
		cutTxn.name: (cutTxnRounds - cutTxnRounds/4) * cutTxnRoundSize, cutCompact.name: compactedRecords}
	err = poll.Until(ctx, 2*time.Minute, time.Second, func() (bool, error) {
		for topic, want := range copiedPrefill {
			if n, err := m.tgt.Count(topic); err != nil || n < want {
				return false, nil
			}
		}
		return true, nil
	}, "MM2 to copy the prefill")
	require.NoError(t, err)
	t.Logf("[%5.1fs] MM2 copied the prefill", time.Since(begin).Seconds())

	// Production goes on: plain records, transactions (every 4th aborted)
	// and records with keys of their own on the compacted topic.
	round := 0
	stopProducer := produceInBackground(t, ctx, func() error {
		round++
		err := m.src.Produce(cutPlain.name, 60)
		if err == nil {
			err = txn.write(10, txnKey, nil, round%4 == 0)
		}
		if err == nil {
			err = comp.write(4, compactLiveKey, nil, false)
		}
		return err
	})

	// The applications: one consumer group per topic on the source, reading
	// from the start, read_committed.
	consumers := map[string]*localkafka.GroupConsumer{}
	var groupNames []string
	for _, tc := range cutTopics {
		gc, err := m.src.StartConsumer(ctx, tc.group, tc.name)
		require.NoError(t, err)
		t.Cleanup(func() { _ = gc.Stop() })
		consumers[tc.name] = gc
		groupNames = append(groupNames, tc.group)
	}
	prefilled := map[string]int{cutPlain.name: cutPlainPrefill, cutTxn.name: cutTxnRounds * cutTxnRoundSize,
		cutCompact.name: cutCompactKeys*cutCompactVersion + cutCompactDeleted + cutCompactFiller}
	// Wait until each has read past the prefill, into what is being written now.
	err = poll.Until(ctx, 90*time.Second, 500*time.Millisecond, func() (bool, error) {
		for _, tc := range cutTopics {
			read := consumers[tc.name].Read()[tc.name]
			for p := range tc.partitions {
				rs := read[p]
				if len(rs) == 0 || seqOf(t, rs[len(rs)-1]) < prefilled[tc.name]+20 {
					return false, nil
				}
			}
		}
		return true, nil
	}, "the source consumers to read into live production")
	require.NoError(t, err)
	t.Logf("[%5.1fs] source consumers reading live records", time.Since(begin).Seconds())

	groupsParam := strings.Join(groupNames, ",")
	consumed := map[string]map[int32][]localkafka.Record{} // what each source consumer read, by topic
	committed := map[string]map[int32]int64{}              // source committed offsets, by topic
	var stoppedAt time.Time
	var dry, written map[string][]cutPartition

	t.Run("phase=consumers fails naming the active members, then writes exact offsets once consumers stop", func(t *testing.T) {
		t0 := time.Now()
		res, err := m.sim.Run(ctx, "leader", "cutover", map[string]any{"phase": "consumers", "groups": groupsParam, "timeout": "15s"})
		require.NoError(t, err)
		require.True(t, res.Failed, "cutover phase=consumers passed while consumers run: %v", res.Results)
		t.Logf("phase=consumers with consumers running failed after %s: %s", time.Since(t0).Round(time.Millisecond), res.Message)
		assert.Contains(t, res.Message, "consumers cannot move yet after 15s")
		for _, g := range groupNames {
			assert.Contains(t, res.Message, "group "+g+" still has 1 active members on the source")
		}
		assert.NotEmpty(t, res.Logs, "progress lines while waiting")

		// The applications stop on the source; producers go on.
		for _, tc := range cutTopics {
			require.NoError(t, consumers[tc.name].Stop())
		}
		stoppedAt = time.Now()
		for _, tc := range cutTopics {
			consumed[tc.name] = consumers[tc.name].Read()[tc.name]
			offsets, err := m.src.GroupOffsets(tc.group, tc.name, tc.partitions)
			require.NoError(t, err)
			committed[tc.name] = offsets
			last := lastOffsets(consumed[tc.name])
			for p := range tc.partitions {
				assert.Equal(t, last[p]+1, offsets[p], "%s/%d: the group committed the record after the last it read", tc.name, p)
			}
			t.Logf("%s stopped after reading %d records of %s; committed on the source %v", tc.group,
				countRecords(consumed[tc.name]), tc.name, offsets)
		}

		params := map[string]any{"phase": "consumers", "groups": groupsParam, "timeout": "90s", "dry-run": true}
		res, err = m.sim.Run(ctx, "leader", "cutover", params)
		require.NoError(t, err)
		require.False(t, res.Failed, "dry run failed: %s\nlogs: %v", res.Message, res.Logs)
		dryAt := time.Since(stoppedAt)
		for _, l := range res.Logs {
			t.Logf("  dry run action-log: %s", l)
		}
		assert.Equal(t, "dry run: exact offsets found, nothing written", res.Results["status"])
		dry = consumerPhaseResults(t, res.Results)
		// Nothing written: the target groups hold at most MM2's own sync of
		// its translation, which is never past the exact offset, and is short
		// of it wherever MM2 would replay.
		below := 0
		for _, tc := range cutTopics {
			got, err := m.tgt.GroupOffsets(tc.group, tc.name, tc.partitions)
			require.NoError(t, err)
			for _, p := range dry[tc.group] {
				assert.LessOrEqual(t, got[p.partition], p.exact, "%s %s/%d: target group after the dry run", tc.group, p.topic, p.partition)
				if got[p.partition] < p.exact {
					below++
				}
			}
		}
		assert.Positive(t, below, "after the dry run, some target group offsets are short of the exact ones")

		params["dry-run"] = false
		t1 := time.Now()
		res, err = m.sim.Run(ctx, "leader", "cutover", params)
		require.NoError(t, err)
		require.False(t, res.Failed, "cutover phase=consumers failed: %s\nlogs: %v", res.Message, res.Logs)
		t.Logf("phase=consumers: dry run succeeded %s after the consumers stopped; the writing run took %s, done %s after they stopped",
			dryAt.Round(time.Millisecond), time.Since(t1).Round(time.Millisecond), time.Since(stoppedAt).Round(time.Millisecond))
		for _, l := range res.Logs {
			t.Logf("  action-log: %s", l)
		}
		assert.Equal(t, "exact offsets written for 3 group(s): start their consumers on the target", res.Results["status"])
		assert.Equal(t, "3", res.Results["summary.groups"])
		assert.Equal(t, "7", res.Results["summary.partitions"])
		written = consumerPhaseResults(t, res.Results)
		require.Len(t, written, 3)

		for _, tc := range cutTopics {
			ps := written[tc.group]
			require.Len(t, ps, int(tc.partitions), tc.group)
			dryP := byPartition(dry[tc.group])
			target, err := m.tgt.GroupOffsets(tc.group, tc.name, tc.partitions)
			require.NoError(t, err)
			for _, p := range ps {
				where := fmt.Sprintf("%s %s/%d", tc.group, p.topic, p.partition)
				assert.Equal(t, tc.name, p.topic, where)
				assert.Equal(t, committed[tc.name][p.partition], p.committed, "%s: source committed", where)
				assert.Equal(t, dryP[p.partition].exact, p.exact, "%s: the dry run found the same exact offset", where)
				assert.Equal(t, p.exact, target[p.partition], "%s: the target group holds the exact offset", where)
				wantHow := "copy of the last record below"
				if tc == cutCompact {
					// Either cleaner may remove the record below or its copy: the
					// first record at or after that both sides kept decides.
					wantHow = "copy of the first record at or after"
				}
				assert.Equal(t, wantHow, p.how, where)
				assert.GreaterOrEqual(t, p.mm2, int64(0), "%s: MM2 checkpointed the group", where)
				assert.LessOrEqual(t, p.mm2, p.exact, "%s: MM2's translation is never past the exact offset", where)
				switch tc {
				case cutPlain:
					assert.Equal(t, p.committed, p.exact, "%s: no markers, no gaps: same offset on both sides", where)
				default:
					assert.Less(t, p.exact, p.committed, "%s: markers or compaction gaps make the target offset smaller", where)
				}
				t.Logf("%s: source committed %d, MM2's translation %d, exact %d, replays avoided %d (%s)",
					where, p.committed, p.mm2, p.exact, p.replays, p.how)
			}
		}
	})

	t.Run("replays from MM2's own translation are what the action says it avoided", func(t *testing.T) {
		require.NotNil(t, written, "the consumers phase did not run")
		// Method: MM2's translation is the action's mm2-translation (MM2's
		// latest checkpoint for the group, read from its checkpoints topic,
		// the offset MM2's group sync commits on the target). A consumer
		// started there reads, before the exact offset, records the source
		// consumer had already read: read the target from there, read_committed,
		// up to and including the record at the exact offset, and check each
		// record by its seq header against what the source consumer read.
		var total, reported int64
		for _, tc := range cutTopics {
			seen := map[int]bool{}
			for _, rs := range consumed[tc.name] {
				for _, r := range rs {
					seen[seqOf(t, r)] = true
				}
			}
			for _, p := range written[tc.group] {
				where := fmt.Sprintf("%s %s/%d", tc.group, p.topic, p.partition)
				if p.mm2 < 0 {
					continue // asserted above
				}
				recs, err := m.tgt.ReadCommitted(ctx, tc.name, p.partition, p.mm2, func(r localkafka.Record) bool { return r.Offset >= p.exact })
				require.NoError(t, err, where)
				var replays, unread int64
				for _, r := range recs {
					switch {
					case r.Offset >= p.exact:
						assert.Equal(t, p.exact, r.Offset, "%s: a record at the exact offset", where)
						assert.False(t, seen[seqOf(t, r)], "%s: the record at the exact offset was not read on the source: %s", where, describeRecord(r))
					case seen[seqOf(t, r)]:
						replays++
					default:
						unread++
					}
				}
				assert.Zero(t, unread, "%s: records between MM2's translation and the exact offset the source consumer never read", where)
				assert.Equal(t, p.replays, replays, "%s: replays counted from MM2's translation %d to exact %d", where, p.mm2, p.exact)
				total += replays
				reported += p.replays
			}
		}
		assert.Positive(t, total, "MM2's translation replays something, so the exact offsets prove something")
		t.Logf("a consumer started at MM2's translation would replay %d records; the action reported %d avoided", total, reported)
	})

	t.Run("consumers on the target resume exactly: 0 skipped, 0 replayed", func(t *testing.T) {
		require.NotNil(t, written, "the consumers phase did not run")
		for _, tc := range cutTopics {
			exact := byPartition(written[tc.group])
			ends := mustEnds(t, m.tgt, tc.name)
			gc, err := m.tgt.StartConsumer(ctx, tc.group, tc.name)
			require.NoError(t, err)
			err = poll.Until(ctx, 60*time.Second, 200*time.Millisecond, func() (bool, error) {
				last := lastOffsets(gc.Read()[tc.name])
				for p := range tc.partitions {
					if l, ok := last[p]; ends[p] > exact[p].exact && (!ok || l+1 < ends[p]) {
						return false, nil
					}
				}
				return true, nil
			}, tc.group+" on the target to read up to the target's end at the cutover")
			require.NoError(t, gc.Stop())
			require.NoError(t, err)

			seen := map[int]bool{}
			for _, rs := range consumed[tc.name] {
				for _, r := range rs {
					seen[seqOf(t, r)] = true
				}
			}
			read := gc.Read()[tc.name]
			var n, replayed, skipped int
			for p := range tc.partitions {
				where := fmt.Sprintf("%s %s/%d", tc.group, tc.name, p)
				got := read[p]
				require.NotEmpty(t, got, "%s: nothing read on the target", where)
				assert.Equal(t, exact[p].exact, got[0].Offset, "%s: first read at the exact offset", where)
				want, err := m.src.ReadCommitted(ctx, tc.name, p, committed[tc.name][p], func() func(localkafka.Record) bool {
					k := 0
					return func(localkafka.Record) bool { k++; return k >= len(got) }
				}())
				require.NoError(t, err, where)
				for i, r := range got {
					if seen[seqOf(t, r)] {
						replayed++
					}
					if i < len(want) && (seqOf(t, r) != seqOf(t, want[i]) || !sameRecord(r, want[i])) {
						skipped++
						if skipped == 1 {
							t.Errorf("%s: record %d read on the target differs from the source's from the committed offset:\n source %s\n target %s",
								where, i, describeRecord(want[i]), describeRecord(r))
						}
					}
				}
				n += len(got)
				t.Logf("%s: first record read on the target %s (offset %d there, %d on the source), %d records read",
					where, got[0].Key, got[0].Offset, want[0].Offset, len(got))
			}
			assert.Zero(t, replayed, "%s: records read on the target that the source consumer had read", tc.group)
			assert.Zero(t, skipped, "%s: records read out of the source's order after the committed offset", tc.group)
			t.Logf("%s on the target: %d records read record by record against the source: %d skipped, %d replayed",
				tc.group, n, skipped, replayed)
		}
	})

	producersParams := map[string]any{"phase": "producers", "timeout": "90s", "quiet-period": "5s"}
	var first map[string]string
	t.Run("phase=producers fails while the producer writes, then proves the copy and stops MM2 everywhere", func(t *testing.T) {
		t0 := time.Now()
		res, err := m.sim.Run(ctx, "leader", "cutover", map[string]any{"phase": "producers", "timeout": "20s", "quiet-period": "5s"})
		require.NoError(t, err)
		require.True(t, res.Failed, "phase=producers passed while the producer writes: %v", res.Results)
		assert.Contains(t, res.Message, "producers cannot move yet after 20s")
		assert.Contains(t, res.Message, "still written to")
		t.Logf("phase=producers with the producer writing failed after %s: %s", time.Since(t0).Round(time.Millisecond), res.Message)
		for _, u := range m.units() {
			assert.Equal(t, client.StatusActive, m.service(u).Current, "%s: MM2 still runs after the failed phase", u)
		}

		stopProducer()
		stopped := time.Now()
		res, err = m.sim.Run(ctx, "leader", "cutover", producersParams)
		require.NoError(t, err)
		require.False(t, res.Failed, "phase=producers failed: %s\nlogs: %v", res.Message, res.Logs)
		t.Logf("phase=producers succeeded %s after the producer stopped", time.Since(stopped).Round(time.Millisecond))
		for _, l := range res.Logs {
			t.Logf("  action-log: %s", l)
		}
		first = res.Results
		r := res.Results
		assert.Equal(t, "cutover complete: MirrorMaker 2 stopped on the leader, stop requested on the other 1 unit(s) "+
			"(their status shows when done); clients may use "+m.target.Bootstrap, r["status"])
		assert.Equal(t, r["summary.source-records"], r["summary.target-records"])
		assert.Equal(t, "7", r["summary.partitions"])

		// The test's own count: both sides read whole, read_committed, per
		// partition, up to the last record the producers wrote there.
		plainN := m.src.Produced(cutPlain.name)
		lastSeq := func(tc cutTopic, p int32) int {
			switch tc {
			case cutTxn:
				return txn.last[p]
			case cutCompact:
				return comp.last[p]
			}
			return int(p) + int(tc.partitions)*((plainN-1-int(p))/int(tc.partitions)) // Produce: record i to partition i % partitions
		}
		topicKey := map[string]string{} // results list topics by name
		for i := range len(cutTopics) {
			k := "topics." + strconv.Itoa(i) + "."
			topicKey[r[k+"name"]] = k
		}
		for _, tc := range cutTopics {
			k, ok := topicKey[tc.name]
			require.True(t, ok, "topic %s not in the results %v", tc.name, r)
			assert.Equal(t, tc.name, r[k+"target"])
			var srcN, tgtN int
			for p := range tc.partitions {
				where := fmt.Sprintf("%s/%d", tc.name, p)
				last := lastSeq(tc, p)
				require.Equal(t, p, int32(last)%tc.partitions, where)
				upTo := func(r localkafka.Record) bool { return r.Headers["seq"] == strconv.Itoa(last) }
				src, err := m.src.ReadCommitted(ctx, tc.name, p, sarama.OffsetOldest, upTo)
				require.NoError(t, err, where)
				tgt, err := m.tgt.ReadCommitted(ctx, tc.name, p, sarama.OffsetOldest, upTo)
				require.NoError(t, err, where)
				assert.Equal(t, len(src), len(tgt), "%s: records on both sides", where)
				for j := range min(len(src), len(tgt)) {
					if !sameRecord(src[j], tgt[j]) || !src[j].Timestamp.Equal(tgt[j].Timestamp) {
						t.Errorf("%s: record %d differs:\n source %s\n target %s", where, j, describeRecord(src[j]), describeRecord(tgt[j]))
						break
					}
				}
				srcN += len(src)
				tgtN += len(tgt)
			}
			assert.Equal(t, strconv.Itoa(srcN), r[k+"source-records"], "%s: source records counted by the test", tc.name)
			assert.Equal(t, strconv.Itoa(tgtN), r[k+"target-records"], "%s: target records counted by the test", tc.name)
			t.Logf("%s: %s records on the source, %s on the target (the test read %d and %d), %s sampled by content",
				tc.name, r[k+"source-records"], r[k+"target-records"], srcN, tgtN, r[k+"sampled"])
		}

		err = poll.Until(ctx, 60*time.Second, time.Second, func() (bool, error) {
			for _, u := range m.units() {
				if m.service(u).Current != client.StatusInactive || m.mm2PID(u) != 0 {
					return false, nil
				}
			}
			return true, nil
		}, "MM2 to stop on every unit")
		require.NoError(t, err)
		want := "cutover complete: clients may use " + m.target.Bootstrap
		st := m.statuses()
		for _, u := range m.units() {
			assert.Equal(t, "active: "+want, st[u], u)
		}
		app, err := m.sim.Status(ctx)
		require.NoError(t, err)
		assert.Equal(t, want, app.Status.Message)
		t.Logf("juju status after the cutover:\n%s", app)
	})

	t.Run("a second phase=producers reports the same results", func(t *testing.T) {
		require.NotNil(t, first, "the producers phase did not run")
		res, err := m.sim.Run(ctx, "leader", "cutover", producersParams)
		require.NoError(t, err)
		require.False(t, res.Failed, "second phase=producers failed: %s", res.Message)
		assert.Equal(t, first, res.Results)
		for _, u := range m.units() {
			assert.Equal(t, client.StatusInactive, m.service(u).Current, "%s: MM2 stays stopped", u)
		}
	})
	t.Logf("TestCutover took %s", time.Since(begin).Round(time.Millisecond))
}

// countRecords is the number of records in a per-partition read.
func countRecords(read map[int32][]localkafka.Record) int {
	n := 0
	for _, rs := range read {
		n += len(rs)
	}
	return n
}
