package charm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"mirrormaker-k8s/internal/migration"
)

// BookFile is where a unit keeps the book of MM2's internal topics between hooks (see
// migration.Book), in its charm directory as other charms keep their state there. It is a
// cache: without it a measurement reads MM2's topics whole, and writes a new one.
const BookFile = ".mm2-book"

// loadBook reads the book at path; a missing or unreadable one gives an empty book.
func loadBook(path string) *migration.Book {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return &migration.Book{}
	}
	b, _ := migration.DecodeBook(data) // an unreadable book is an empty one
	return b
}

// saveBook writes b to path atomically, readable by the charm only.
func saveBook(path string, b *migration.Book) error {
	if path == "" || b == nil {
		return nil
	}
	data, err := b.Encode()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), BookFile+".*")
	if err != nil {
		return fmt.Errorf("cannot save the book of MM2's topics: %w", err)
	}
	_, werr := tmp.Write(data)
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Close()); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("cannot save the book of MM2's topics: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("cannot save the book of MM2's topics: %w", err)
	}
	return nil
}

// bookedPair is a cutover's Session that saves its book when closed.
type bookedPair struct {
	*migration.Pair
	path string
}

func (p bookedPair) Close() {
	_ = saveBook(p.path, p.Book) // a cache: the next read rebuilds what is lost
	p.Pair.Close()
}
