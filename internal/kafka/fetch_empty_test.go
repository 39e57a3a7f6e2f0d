package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFetchStepsOverEmptyBatches serves, from sarama's mock broker, what a
// cleaned compacted log returns from a segment that holds only the empty
// batches the cleaner keeps for idempotent producers: two batches, offsets
// 0-3 and 4-9, without a record. The answer goes through sarama's real
// decoder, so the read must still move on to offset 10.
func TestFetchStepsOverEmptyBatches(t *testing.T) {
	mb := sarama.NewMockBroker(t, 1)
	defer mb.Close()
	resp := &sarama.FetchResponse{Version: 12}
	resp.AddRecordBatch("t", 0, sarama.StringEncoder("k"), sarama.StringEncoder("removed"), 0, 5, false)
	resp.AddRecordBatch("t", 0, sarama.StringEncoder("k"), sarama.StringEncoder("removed"), 4, 6, false)
	blk := resp.GetBlock("t", 0)
	for i, last := range []int32{3, 5} {
		b := blk.RecordsSet[i].RecordBatch
		b.Records, b.LastOffsetDelta = nil, last
	}
	blk.HighWaterMarkOffset, blk.LastStableOffset = 12, 12
	mb.SetHandlerByMap(map[string]sarama.MockResponse{
		"MetadataRequest": sarama.NewMockMetadataResponse(t).SetBroker(mb.Addr(), mb.BrokerID()).SetLeader("t", 0, mb.BrokerID()),
		"ApiVersionsRequest": sarama.NewMockApiVersionsResponse(t).SetApiKeys([]sarama.ApiVersionsResponseKey{
			{ApiKey: 1, MinVersion: 0, MaxVersion: 12}, // Fetch
			{ApiKey: 3, MinVersion: 0, MaxVersion: 12}, // Metadata
		}),
		"FetchRequest": sarama.NewMockWrapper(resp),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := Dial(ctx, Access{BootstrapServers: []string{mb.Addr()}, SecurityProtocol: Plaintext})
	require.NoError(t, err)
	defer cl.Close()

	tp := TopicPartition{Topic: "t", Partition: 0}
	got, err := cl.Fetch(ctx, mb.BrokerID(), false, []FetchAsk{{TP: tp, Offset: 0, MaxBytes: 1 << 20}})
	require.NoError(t, err)
	require.NoError(t, got[tp].Err)
	assert.Empty(t, got[tp].Records)
	assert.Equal(t, int64(10), got[tp].Next, "past both empty batches")
}

// TestFetchDoesNotStepPastAPartialBatch: a batch cut short by the size
// limit is read again with more room, never skipped.
func TestFetchDoesNotStepPastAPartialBatch(t *testing.T) {
	r := &sarama.FetchResponse{}
	r.AddRecordBatch("t", 0, sarama.StringEncoder("k"), sarama.StringEncoder("v"), 7, -1, false)
	blk := r.GetBlock("t", 0)
	blk.RecordsSet[0].RecordBatch.PartialTrailingRecord = true
	blk.HighWaterMarkOffset = 20
	f := fetchedRecords(blk, 7)
	assert.Empty(t, f.Records)
	assert.Equal(t, int64(7), f.Next)
	assert.True(t, f.Partial, "ask again with more room")
}
