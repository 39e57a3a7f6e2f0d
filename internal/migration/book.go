package migration

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"sort"

	"mirrormaker-k8s/internal/kafka"
)

// MM2's internal topics grow with time, not with the migration's size: MM2
// writes a Connect offset for every active partition at each offset flush
// and a checkpoint for every group and partition at each interval, and the
// topics are compacted only once a segment rolls (a gigabyte by default).
// A day of a 2,000-partition migration is millions of records. What a
// measurement needs of them is only the latest record of each key, so it
// keeps that, per partition, with the offset it read up to (a Book), and
// the next measurement reads only what MM2 wrote since.

// Book is what was read of MM2's internal topics, kept between
// measurements. The zero value is empty: the first read is whole. A Pair
// with a Book reads incrementally and updates it; Encode and DecodeBook
// carry it between hooks. It is a cache: losing it costs one whole read.
type Book struct {
	// Topics are by name, then partition.
	Topics map[string]map[int32]*BookPartition
}

// BookPartition is one partition of an internal topic as read so far.
type BookPartition struct {
	// Start is the partition's log start when last read: one lower now
	// means the topic was recreated. Next is where the next read begins.
	Start, Next int64
	// Latest is the latest record of each live key read below Next (a
	// tombstone removes its key).
	Latest map[string]BookRecord
}

// BookRecord is a kept record.
type BookRecord struct {
	Offset int64
	Value  []byte
}

// bookVersion changes when Book's encoding does; an older encoding is
// dropped (a whole read rebuilds it).
const bookVersion = 1

type bookFile struct {
	Version int
	Book    Book
}

// Encode serialises b.
func (b *Book) Encode() ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(bookFile{Version: bookVersion, Book: *b}); err != nil {
		return nil, fmt.Errorf("cannot encode the book of MM2's topics: %w", err)
	}
	return buf.Bytes(), nil
}

// DecodeBook reads what Encode wrote; anything else, including an older
// encoding, gives an empty Book and an error saying why.
func DecodeBook(data []byte) (*Book, error) {
	var f bookFile
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&f); err != nil {
		return &Book{}, fmt.Errorf("cannot decode the book of MM2's topics: %w", err)
	}
	if f.Version != bookVersion {
		return &Book{}, fmt.Errorf("cannot use the book of MM2's topics: version %d, want %d", f.Version, bookVersion)
	}
	return &f.Book, nil
}

// partition returns tp's entry, resetting it when the log no longer holds
// what it says: a log start past Next (records removed unread) or below
// the start seen (the topic recreated), or an end below Next.
func (b *Book) partition(tp kafka.TopicPartition, start, end int64) *BookPartition {
	if b.Topics == nil {
		b.Topics = map[string]map[int32]*BookPartition{}
	}
	ps := b.Topics[tp.Topic]
	if ps == nil {
		ps = map[int32]*BookPartition{}
		b.Topics[tp.Topic] = ps
	}
	p := ps[tp.Partition]
	if p == nil || start > p.Next || start < p.Start || end < p.Next {
		p = &BookPartition{Start: start, Next: start, Latest: map[string]BookRecord{}}
		ps[tp.Partition] = p
	}
	p.Start = start
	return p
}

// keep folds r into p.
func (p *BookPartition) keep(r kafka.Record) {
	if r.Value == nil {
		delete(p.Latest, string(r.Key))
	} else {
		p.Latest[string(r.Key)] = BookRecord{Offset: r.Offset, Value: r.Value}
	}
	p.Next = r.Offset + 1
}

// records are p's kept records in offset order, as a whole read of a
// compacted log would give them.
func (p *BookPartition) records() []kafka.Record {
	out := make([]kafka.Record, 0, len(p.Latest))
	for k, r := range p.Latest {
		out = append(out, kafka.Record{Offset: r.Offset, Key: []byte(k), Value: r.Value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Offset < out[j].Offset })
	return out
}
