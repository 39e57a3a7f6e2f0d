package kafka

import (
	"cmp"
	"encoding/binary"
	"errors"
	"reflect"
	"slices"

	"github.com/IBM/sarama"
)

// errLegacyFormat is a partition stored in the pre-0.11 message format,
// which MM2's internal topics never are on a broker MM2 3.x can use.
var errLegacyFormat = errors.New("records in the legacy message format")

// controlAbort is the type of the control record that ends an aborted
// transaction (key: version INT16, type INT16).
const controlAbort = 0

// fetchedRecords reads one partition of a read_committed Fetch answer
// asked from offset: the records of committed data batches, skipping
// control batches and the batches of aborted transactions as Kafka's own
// consumer does (an aborted transaction starts at its listed first offset
// and ends at its producer's abort marker). next moves past every complete
// batch, so a partition whose tail is only control records still reaches
// its end.
func fetchedRecords(blk *sarama.FetchResponseBlock, from int64) Fetched {
	if !errors.Is(blk.Err, sarama.ErrNoError) {
		return Fetched{Next: from, Err: blk.Err}
	}
	f := Fetched{Next: from}
	partial := blk.Partial
	aborted := append([]*sarama.AbortedTransaction(nil), blk.AbortedTransactions...)
	slices.SortFunc(aborted, func(a, b *sarama.AbortedTransaction) int { return cmp.Compare(a.FirstOffset, b.FirstOffset) })
	abortedProducers := make(map[int64]bool)
	for _, rs := range blk.RecordsSet {
		if rs.MsgSet != nil && rs.RecordBatch == nil {
			if len(rs.MsgSet.Messages) == 0 {
				continue
			}
			return Fetched{Next: from, Err: errLegacyFormat}
		}
		batch := rs.RecordBatch
		if batch == nil {
			continue
		}
		if batch.PartialTrailingRecord {
			partial = true
			break // incomplete: fetch it again, with more room
		}
		for len(aborted) > 0 && aborted[0].FirstOffset <= batch.LastOffset() {
			abortedProducers[aborted[0].ProducerID] = true
			aborted = aborted[1:]
		}
		switch {
		case batch.Control:
			if isAbortMarker(batch) {
				delete(abortedProducers, batch.ProducerID)
			}
		case batch.IsTransactional && abortedProducers[batch.ProducerID]:
		default:
			for _, r := range batch.Records {
				f.Bytes += int64(len(r.Key) + len(r.Value))
				off := batch.FirstOffset + r.OffsetDelta
				if off >= from {
					f.Records = append(f.Records, Record{Offset: off, Key: r.Key, Value: r.Value,
						Timestamp: recordTimestamp(batch, r), Headers: headersOf(r)})
				}
			}
		}
		f.Next = max(f.Next, batch.LastOffset()+1)
	}
	if next, ok := afterLastBatch(blk); ok && !partial && next <= blk.HighWaterMarkOffset {
		f.Next = max(f.Next, next)
	}
	f.Partial = partial
	return f
}

// afterLastBatch is the offset after the last whole batch of blk, empty
// batches included. The log cleaner keeps each idempotent producer's last
// batch even when it has removed every record of it, to keep the producer's
// state; a cleaned compacted log can so hold a segment of nothing but empty
// batches, and a read that only counts the batches sarama returns (it leaves
// empty ones out of RecordsSet) never gets past it. sarama computes this
// offset while decoding and does not export it, so it is read by reflection.
//
// sarama also sets it from a trailing batch cut short by the size limit
// (whose header it decoded), which it leaves out of RecordsSet when whole
// batches came before: its own consumer uses the offset only for an answer
// without records. Here it is used only when no batch was cut short
// (sarama's partialBatchSize is 0), else the read would step over a batch
// it never received. TestFetchStepsOverEmptyBatches and
// TestGivenBatchesLargerThanTheRoomWhenFetchedThenNoneIsSkippedOrStuck
// decode real answers through sarama and fail if an upgrade moves a field.
func afterLastBatch(blk *sarama.FetchResponseBlock) (int64, bool) {
	if blockFields.next == nil || blockFields.partialSize == nil {
		return 0, false
	}
	v := reflect.ValueOf(blk).Elem()
	next := v.FieldByIndex(blockFields.next)
	if next.IsNil() || v.FieldByIndex(blockFields.partialSize).Int() != 0 {
		return 0, false
	}
	return next.Elem().Int(), true
}

// blockFields are the indexes of sarama's unexported recordsNextOffset
// (*int64) and partialBatchSize (int32), looked up once rather than by name
// for every partition of every answer; nil where this sarama has no such
// field, and then afterLastBatch gives nothing.
var blockFields = struct{ next, partialSize []int }{
	next:        blockField("recordsNextOffset", reflect.TypeFor[*int64]()),
	partialSize: blockField("partialBatchSize", reflect.TypeFor[int32]()),
}

func blockField(name string, typ reflect.Type) []int {
	f, ok := reflect.TypeFor[sarama.FetchResponseBlock]().FieldByName(name)
	if !ok || f.Type != typ {
		return nil
	}
	return f.Index
}

func isAbortMarker(batch *sarama.RecordBatch) bool {
	if len(batch.Records) == 0 || len(batch.Records[0].Key) < 4 {
		return false
	}
	return binary.BigEndian.Uint16(batch.Records[0].Key[2:4]) == controlAbort
}

// recordTimestamp is the timestamp a Kafka consumer reports for r: the
// batch's append time for LogAppendTime topics, else its own create time.
func recordTimestamp(batch *sarama.RecordBatch, r *sarama.Record) int64 {
	ts := batch.FirstTimestamp.Add(r.TimestampDelta)
	if batch.LogAppendTime {
		ts = batch.MaxTimestamp
	}
	if (batch.FirstTimestamp.IsZero() && !batch.LogAppendTime) || ts.IsZero() {
		return -1
	}
	return ts.UnixMilli()
}

func headersOf(r *sarama.Record) []Header {
	if len(r.Headers) == 0 {
		return nil
	}
	out := make([]Header, len(r.Headers))
	for i, h := range r.Headers {
		out[i] = Header{Key: h.Key, Value: h.Value}
	}
	return out
}
