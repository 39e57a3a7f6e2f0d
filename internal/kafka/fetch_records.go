package kafka

import (
	"cmp"
	"encoding/binary"
	"errors"
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
				off := batch.FirstOffset + r.OffsetDelta
				if off >= from {
					f.Records = append(f.Records, Record{Offset: off, Key: r.Key, Value: r.Value,
						Timestamp: recordTimestamp(batch, r), Headers: headersOf(r)})
				}
			}
		}
		f.Next = max(f.Next, batch.LastOffset()+1)
	}
	return f
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
