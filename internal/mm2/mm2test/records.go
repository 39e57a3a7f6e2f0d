// Package mm2test writes MirrorMaker 2's own records, so tests can put a
// checkpoint or a Connect offset on a broker (real or fake) exactly as MM2
// would. internal/mm2's golden tests pin these encoders to the spec byte for
// byte, by decoding what they write.
package mm2test

import (
	"encoding/binary"
	"strconv"
)

// CheckpointKey is a checkpoints-topic key: group, topic, partition.
func CheckpointKey(group, topic string, partition int32) []byte {
	b := append(kafkaString(group), kafkaString(topic)...)
	return binary.BigEndian.AppendUint32(b, uint32(partition))
}

// CheckpointValue is a version-0 checkpoint value: the upstream and
// downstream offsets and the group's metadata.
func CheckpointValue(upstream, downstream int64, metadata string) []byte {
	b := binary.BigEndian.AppendUint16(nil, 0)
	b = binary.BigEndian.AppendUint64(b, uint64(upstream))
	b = binary.BigEndian.AppendUint64(b, uint64(downstream))
	return append(b, kafkaString(metadata)...)
}

// ConnectKey is the Connect offsets-topic key MirrorSourceConnector writes
// for one source partition.
func ConnectKey(cluster, topic string, partition int32) []byte {
	return []byte(`["MirrorSourceConnector",{"cluster":"` + cluster + `","partition":` + itoa(int64(partition)) + `,"topic":"` + topic + `"}]`)
}

// ConnectValue is the Connect offsets-topic value: the next source offset
// MM2 will copy.
func ConnectValue(offset int64) []byte { return []byte(`{"offset":` + itoa(offset) + `}`) }

func kafkaString(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
