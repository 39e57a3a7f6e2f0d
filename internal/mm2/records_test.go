package mm2

import (
	"encoding/hex"
	"strings"
	"testing"

	"mirrormaker-k8s/internal/mm2/mm2test"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hexBytes decodes golden bytes written with spaces between fields.
func hexBytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

func TestDecodeCheckpointGolden(t *testing.T) {
	// group "billing", topic "old.orders", partition 3;
	// version 0, upstream 42, downstream 40, metadata "m".
	key := hexBytes(t, "0007 62696c6c696e67  000a 6f6c642e6f7264657273  00000003")
	value := hexBytes(t, "0000  000000000000002a  0000000000000028  0001 6d")

	c, err := DecodeCheckpoint(key, value)
	require.NoError(t, err)
	assert.Equal(t, Checkpoint{Group: "billing", Topic: "old.orders", Partition: 3, UpstreamOffset: 42, DownstreamOffset: 40, Metadata: "m"}, c)
	assert.Equal(t, key, mm2test.CheckpointKey("billing", "old.orders", 3), "test encoder matches the spec")
	assert.Equal(t, value, mm2test.CheckpointValue(42, 40, "m"))
}

func TestDecodeCheckpointRejects(t *testing.T) {
	key := mm2test.CheckpointKey("g", "t", 0)
	for _, tc := range []struct {
		name       string
		key, value []byte
		want       string
	}{
		{"short key", key[:len(key)-1], mm2test.CheckpointValue(1, 1, ""), "too short"},
		{"trailing key bytes", append(append([]byte{}, key...), 0), mm2test.CheckpointValue(1, 1, ""), "trailing"},
		{"unknown version", key, hexBytes(t, "0001 0000000000000001 0000000000000001 0000"), "unknown version 1"},
		{"short value", key, hexBytes(t, "0000 0000000000000001"), "too short"},
		{"tombstone", key, nil, "null value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeCheckpoint(tc.key, tc.value)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestDecodeCheckpointNullMetadataAndLargeOffsets(t *testing.T) {
	key := mm2test.CheckpointKey("g", "t", 7)
	value := hexBytes(t, "0000 7fffffffffffffff 0000000000000000 ffff")
	c, err := DecodeCheckpoint(key, value)
	require.NoError(t, err)
	assert.Equal(t, int64(1<<63-1), c.UpstreamOffset)
	assert.Equal(t, "", c.Metadata)
}

func TestDecodeOffsetSyncGolden(t *testing.T) {
	key := hexBytes(t, "0006 6f7264657273 00000002")
	value := hexBytes(t, "0000000000000064 0000000000000010")
	s, err := DecodeOffsetSync(key, value)
	require.NoError(t, err)
	assert.Equal(t, OffsetSync{Topic: "orders", Partition: 2, UpstreamOffset: 100, DownstreamOffset: 16}, s)

	_, err = DecodeOffsetSync(key, value[:15])
	assert.ErrorContains(t, err, "too short")
}

func TestDecodeConnectOffset(t *testing.T) {
	for _, tc := range []struct {
		name       string
		key, value string
		nilValue   bool
		want       ConnectOffset
		ok         bool
		err        string
	}{
		{
			name: "source progress", key: `["MirrorSourceConnector",{"cluster":"old","topic":"t","partition":3}]`,
			value: `{"offset":41}`, want: ConnectOffset{Cluster: "old", Topic: "t", Partition: 3, Offset: 41}, ok: true,
		}, {
			name: "keys in another order and spaces", key: ` [ "MirrorSourceConnector" , { "partition" : 0 , "topic" : "a.b" , "cluster" : "old" } ] `,
			value: `{ "offset" : 0 }`, want: ConnectOffset{Cluster: "old", Topic: "a.b", Partition: 0, Offset: 0}, ok: true,
		}, {
			name: "offsets beyond float precision", key: `["MirrorSourceConnector",{"cluster":"old","topic":"t","partition":1}]`,
			value: `{"offset":9007199254740993}`, want: ConnectOffset{Cluster: "old", Topic: "t", Partition: 1, Offset: 9007199254740993}, ok: true,
		}, {
			name: "null value is a tombstone", key: `["MirrorSourceConnector",{"cluster":"old","topic":"t","partition":2}]`,
			nilValue: true, want: ConnectOffset{Cluster: "old", Topic: "t", Partition: 2, Offset: -1, Tombstone: true}, ok: true,
		}, {
			name: "JSON null value is a tombstone", key: `["MirrorSourceConnector",{"cluster":"old","topic":"t","partition":2}]`,
			value: `null`, want: ConnectOffset{Cluster: "old", Topic: "t", Partition: 2, Offset: -1, Tombstone: true}, ok: true,
		}, {
			name: "checkpoint connector's dummy key", key: `["MirrorCheckpointConnector",{"cluster":"old","topic":"t","partition":0}]`,
			value: `{"offset":0}`,
		}, {
			name: "heartbeat connector's key", key: `["MirrorHeartbeatConnector",{"sourceClusterAlias":"old","targetClusterAlias":"new"}]`,
			value: `{"offset":0}`,
		}, {
			name: "not JSON", key: `\x00garbage`, value: `{}`,
		}, {
			name: "source key without partition", key: `["MirrorSourceConnector",{"cluster":"old","topic":"t"}]`,
			value: `{"offset":1}`, err: `no "partition"`,
		}, {
			name: "fractional offset", key: `["MirrorSourceConnector",{"cluster":"old","topic":"t","partition":0}]`,
			value: `{"offset":1.5}`, err: "not an integer",
		}, {
			name: "partition out of int32", key: `["MirrorSourceConnector",{"cluster":"old","topic":"t","partition":4294967296}]`,
			value: `{"offset":1}`, err: "not an integer in range",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			value := []byte(tc.value)
			if tc.nilValue {
				value = nil
			}
			got, ok, err := DecodeConnectOffset([]byte(tc.key), value)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestConnectTestEncodersRoundTrip(t *testing.T) {
	o, ok, err := DecodeConnectOffset(mm2test.ConnectKey("old", "t", 12), mm2test.ConnectValue(-7))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, ConnectOffset{Cluster: "old", Topic: "t", Partition: 12, Offset: -7}, o)
}
