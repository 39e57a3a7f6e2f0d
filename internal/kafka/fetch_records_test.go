package kafka

import (
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// transactionalLog is one partition holding, in order: an aborted
// transaction of producer 7 (offsets 0-1, abort marker at 2), a plain
// record (3), a committed transaction of producer 8 (4, commit marker at 5)
// another plain record (6) and a trailing commit marker of producer 9 (7).
func transactionalLog() *sarama.FetchResponseBlock {
	r := &sarama.FetchResponse{}
	s := sarama.StringEncoder("")
	r.AddRecordBatch("t", 0, sarama.StringEncoder("k0"), sarama.StringEncoder("aborted-0"), 0, 7, true)
	r.AddRecordBatch("t", 0, sarama.StringEncoder("k1"), sarama.StringEncoder("aborted-1"), 1, 7, true)
	r.AddControlRecord("t", 0, 2, 7, sarama.ControlRecordAbort)
	r.AddRecordBatch("t", 0, sarama.StringEncoder("k3"), sarama.StringEncoder("plain-3"), 3, -1, false)
	r.AddRecordBatch("t", 0, sarama.StringEncoder("k4"), sarama.StringEncoder("committed-4"), 4, 8, true)
	r.AddControlRecord("t", 0, 5, 8, sarama.ControlRecordCommit)
	r.AddRecordBatch("t", 0, sarama.StringEncoder("k6"), s, 6, -1, false)
	r.AddControlRecord("t", 0, 7, 9, sarama.ControlRecordCommit)
	blk := r.GetBlock("t", 0)
	blk.AbortedTransactions = []*sarama.AbortedTransaction{{ProducerID: 7, FirstOffset: 0}}
	return blk
}

func offsetsOfRecords(rs []Record) []int64 {
	out := []int64{}
	for _, r := range rs {
		out = append(out, r.Offset)
	}
	return out
}

func TestFetchedRecordsSkipAbortedAndControlRecords(t *testing.T) {
	f := fetchedRecords(transactionalLog(), 0)
	require.NoError(t, f.Err)
	assert.Equal(t, []int64{3, 4, 6}, offsetsOfRecords(f.Records))
	assert.Equal(t, "committed-4", string(f.Records[1].Value))
	assert.Equal(t, int64(8), f.Next, "past the trailing control batch")
}

func TestFetchedRecordsFromInsideTheLog(t *testing.T) {
	f := fetchedRecords(transactionalLog(), 4)
	assert.Equal(t, []int64{4, 6}, offsetsOfRecords(f.Records), "records before the asked offset are dropped")
	assert.Equal(t, int64(8), f.Next)
}

func TestFetchedRecordsKeepNullValues(t *testing.T) {
	r := &sarama.FetchResponse{}
	r.AddRecordBatch("t", 0, sarama.StringEncoder("k"), nil, 10, -1, false)
	f := fetchedRecords(r.GetBlock("t", 0), 10)
	require.Len(t, f.Records, 1)
	assert.Nil(t, f.Records[0].Value, "a tombstone stays nil")
	assert.Equal(t, int64(11), f.Next)
}

func TestFetchedRecordsErrors(t *testing.T) {
	r := &sarama.FetchResponse{}
	r.AddError("t", 0, sarama.ErrOffsetOutOfRange)
	f := fetchedRecords(r.GetBlock("t", 0), 5)
	assert.ErrorIs(t, f.Err, sarama.ErrOffsetOutOfRange)
	assert.Equal(t, int64(5), f.Next)

	legacy := &sarama.FetchResponse{}
	legacy.AddMessage("t", 0, sarama.StringEncoder("k"), sarama.StringEncoder("v"), 0)
	assert.ErrorIs(t, fetchedRecords(legacy.GetBlock("t", 0), 0).Err, errLegacyFormat)
}

func TestFetchedRecordsStopAtAPartialBatch(t *testing.T) {
	r := &sarama.FetchResponse{}
	r.AddRecordBatch("t", 0, sarama.StringEncoder("k"), sarama.StringEncoder("v"), 0, -1, false)
	r.AddRecordBatch("t", 0, sarama.StringEncoder("k"), sarama.StringEncoder("v"), 1, -1, false)
	blk := r.GetBlock("t", 0)
	blk.RecordsSet[1].RecordBatch.PartialTrailingRecord = true
	f := fetchedRecords(blk, 0)
	assert.Equal(t, []int64{0}, offsetsOfRecords(f.Records))
	assert.Equal(t, int64(1), f.Next)
}

func TestFetchedRecordsCarryTimestampAndHeaders(t *testing.T) {
	r := &sarama.FetchResponse{}
	at := time.UnixMilli(1700000000123)
	r.AddRecordBatchWithTimestamp("t", 0, sarama.StringEncoder("k"), sarama.StringEncoder("v"), 0, -1, false, at)
	r.AddRecordBatchWithTimestamp("t", 0, sarama.StringEncoder("k"), sarama.StringEncoder("v"), 1, -1, false, time.Time{})
	blk := r.GetBlock("t", 0)
	blk.RecordsSet[0].RecordBatch.Records[0].Headers = []*sarama.RecordHeader{{Key: []byte("h"), Value: []byte("1")}}
	f := fetchedRecords(blk, 0)
	require.Len(t, f.Records, 2)
	assert.Equal(t, int64(1700000000123), f.Records[0].Timestamp)
	assert.Equal(t, []Header{{Key: []byte("h"), Value: []byte("1")}}, f.Records[0].Headers)
	assert.Equal(t, int64(-1), f.Records[1].Timestamp, "no timestamp")
	assert.Nil(t, f.Records[1].Headers)

	logAppend := &sarama.FetchResponse{LogAppendTime: true, Timestamp: time.UnixMilli(1800000000000)}
	logAppend.AddRecordBatchWithTimestamp("t", 0, sarama.StringEncoder("k"), sarama.StringEncoder("v"), 0, -1, false, at)
	f = fetchedRecords(logAppend.GetBlock("t", 0), 0)
	require.Len(t, f.Records, 1)
	assert.Equal(t, int64(1800000000000), f.Records[0].Timestamp, "the append time, as a consumer sees it")
}
