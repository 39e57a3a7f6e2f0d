package mm2

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// The record formats MirrorMaker 2 keeps on the target cluster
// (apache/kafka connect/mirror: OffsetSync, Checkpoint). Decoding them here, rather
// than asking MM2's REST API or metrics, is what makes the measured figures
// exact: they are the very records MM2 resumes from.

// sourceConnectorName is the name the Connect offsets key carries for the
// connector that replicates records; in dedicated mode MM2 names connectors
// after their class.
const sourceConnectorName = "MirrorSourceConnector"

// Checkpoint is one record of MM2's checkpoints topic: where MM2 last placed
// Group's position on the target for one partition. The checkpoints topic is
// compacted by key (group, topic, partition), so the last record per key is
// the checkpoint in force.
type Checkpoint struct {
	Group string
	// Topic is the target-side topic name (prefixed under the prefix policy).
	Topic     string
	Partition int32
	// UpstreamOffset is the group's committed offset on the source that was
	// translated.
	UpstreamOffset int64
	// DownstreamOffset is the equivalent offset on the target.
	DownstreamOffset int64
	Metadata         string
}

// OffsetSync is one record of MM2's offset-syncs topic: an upstream offset
// and the target offset the same record was written at. MM2 translates group
// offsets from these; they are exposed for diagnosis, Measure does not need
// them.
type OffsetSync struct {
	Topic            string
	Partition        int32
	UpstreamOffset   int64
	DownstreamOffset int64
}

// ConnectOffset is MirrorSourceConnector's progress on one source partition
// as Kafka Connect stores it: Offset is the source offset of the last record
// replicated, so replication has reached Offset+1. Tombstone is set for a
// record with a null value, which deletes the key.
type ConnectOffset struct {
	Cluster   string
	Topic     string
	Partition int32
	Offset    int64
	Tombstone bool
}

// checkpointVersion is the only checkpoint value schema MM2 writes or reads.
const checkpointVersion = 0

// DecodeCheckpoint decodes a record of <source>.checkpoints.internal. Both
// parts use Kafka's protocol encoding (big-endian; STRING is an int16 length
// and UTF-8): key = group STRING, topic STRING, partition INT32; value =
// version INT16 (0), upstream INT64, downstream INT64, metadata STRING.
func DecodeCheckpoint(key, value []byte) (Checkpoint, error) {
	c, err := DecodeCheckpointKey(key)
	if err != nil {
		return Checkpoint{}, err
	}
	if value == nil {
		return Checkpoint{}, fmt.Errorf("cannot decode checkpoint of group %q on %s/%d: %w", c.Group, c.Topic, c.Partition, errTombstone)
	}
	v := reader{b: value}
	version := v.int16()
	if v.err == nil && version != checkpointVersion {
		return Checkpoint{}, fmt.Errorf("cannot decode checkpoint of group %q on %s/%d: unknown version %d", c.Group, c.Topic, c.Partition, version)
	}
	c.UpstreamOffset = v.int64()
	c.DownstreamOffset = v.int64()
	c.Metadata = v.str()
	if err := v.done(); err != nil {
		return Checkpoint{}, fmt.Errorf("cannot decode checkpoint of group %q on %s/%d: %w", c.Group, c.Topic, c.Partition, err)
	}
	return c, nil
}

// DecodeCheckpointKey reads the key alone, which is all a tombstone has.
func DecodeCheckpointKey(key []byte) (Checkpoint, error) {
	var c Checkpoint
	k := reader{b: key}
	c.Group = k.str()
	c.Topic = k.str()
	c.Partition = k.int32()
	if err := k.done(); err != nil {
		return Checkpoint{}, fmt.Errorf("cannot decode checkpoint key: %w", err)
	}
	return c, nil
}

// DecodeOffsetSync decodes a record of mm2-offset-syncs.<alias>.internal:
// key = topic STRING, partition INT32; value = upstream INT64, downstream
// INT64.
func DecodeOffsetSync(key, value []byte) (OffsetSync, error) {
	var s OffsetSync
	k := reader{b: key}
	s.Topic = k.str()
	s.Partition = k.int32()
	if err := k.done(); err != nil {
		return OffsetSync{}, fmt.Errorf("cannot decode offset sync key: %w", err)
	}
	v := reader{b: value}
	s.UpstreamOffset = v.int64()
	s.DownstreamOffset = v.int64()
	if err := v.done(); err != nil {
		return OffsetSync{}, fmt.Errorf("cannot decode offset sync of %s/%d: %w", s.Topic, s.Partition, err)
	}
	return s, nil
}

// DecodeConnectOffset decodes a record of MM2's Connect offsets topic
// (mm2-offsets.<source>.internal). The key is the JSON array
// ["MirrorSourceConnector",{"cluster":"old","topic":"t","partition":3}] (the
// object's keys in any order), the value {"offset":N} or null.
//
// ok is false, with no error, for records that are not MirrorSourceConnector
// progress: the checkpoint and heartbeat connectors keep their own dummy
// offsets in the same topic. An error means a record that claims to be
// source progress but cannot be read.
func DecodeConnectOffset(key, value []byte) (o ConnectOffset, ok bool, err error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(key, &parts); err != nil {
		return ConnectOffset{}, false, nil // not a Connect source-offset key
	}
	if len(parts) != 2 {
		return ConnectOffset{}, false, nil
	}
	var connector string
	if err := json.Unmarshal(parts[0], &connector); err != nil || connector != sourceConnectorName {
		return ConnectOffset{}, false, nil
	}
	var partition map[string]json.RawMessage
	if err := json.Unmarshal(parts[1], &partition); err != nil {
		return ConnectOffset{}, false, fmt.Errorf("cannot decode source partition %s: %w", parts[1], err)
	}
	if err := unmarshalField(partition, "cluster", &o.Cluster); err != nil {
		return ConnectOffset{}, false, err
	}
	if err := unmarshalField(partition, "topic", &o.Topic); err != nil {
		return ConnectOffset{}, false, err
	}
	p, err := intField(partition, "partition", math.MinInt32, math.MaxInt32)
	if err != nil {
		return ConnectOffset{}, false, err
	}
	o.Partition = int32(p)
	if value == nil || bytes.Equal(bytes.TrimSpace(value), []byte("null")) {
		o.Offset, o.Tombstone = -1, true
		return o, true, nil
	}
	var offset map[string]json.RawMessage
	if err := json.Unmarshal(value, &offset); err != nil {
		return ConnectOffset{}, false, fmt.Errorf("cannot decode offset of %s/%d: %w", o.Topic, o.Partition, err)
	}
	if o.Offset, err = intField(offset, "offset", math.MinInt64, math.MaxInt64); err != nil {
		return ConnectOffset{}, false, fmt.Errorf("cannot decode offset of %s/%d: %w", o.Topic, o.Partition, err)
	}
	return o, true, nil
}

var errTombstone = errors.New("null value")

func unmarshalField(m map[string]json.RawMessage, name string, into *string) error {
	raw, ok := m[name]
	if !ok {
		return fmt.Errorf("cannot decode source partition: no %q", name)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("cannot decode source partition %q: %w", name, err)
	}
	return nil
}

// intField reads an integer exactly: through the literal, not float64, so
// offsets above 2^53 survive.
func intField(m map[string]json.RawMessage, name string, lo, hi int64) (int64, error) {
	raw, ok := m[name]
	if !ok {
		return 0, fmt.Errorf("no %q", name)
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is %s, not an integer in range", name, raw)
	}
	return n, nil
}

// reader decodes Kafka's protocol primitives, remembering the first error so
// a decoder reads straight through and checks once.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("record too short")

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.err = errShort
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) int16() int16 {
	if b := r.take(2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (r *reader) int32() int32 {
	if b := r.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (r *reader) int64() int64 {
	if b := r.take(8); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

// str reads a STRING; a null string (length -1) reads as "".
func (r *reader) str() string {
	n := r.int16()
	if r.err != nil || n == -1 {
		return ""
	}
	return string(r.take(int(n)))
}

func (r *reader) done() error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%d unexpected trailing bytes", len(r.b))
	}
	return nil
}
