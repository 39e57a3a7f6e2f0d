package charm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mirrormaker-k8s/internal/migration"
)

func TestBookIsKeptBetweenHooksAndLosingItCostsOnlyAWholeRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), BookFile)
	assert.Nil(t, loadBook(""), "no path: read whole every time")
	assert.Equal(t, &migration.Book{}, loadBook(path), "none yet: empty")

	b := &migration.Book{Topics: map[string]map[int32]*migration.BookPartition{
		"mm2-offsets.old.internal": {3: {Start: 0, Next: 42, Latest: map[string]migration.BookRecord{"k": {Offset: 41, Value: []byte("v")}}}},
	}}
	require.NoError(t, saveBook(path, b))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.Equal(t, b, loadBook(path))

	require.NoError(t, os.WriteFile(path, []byte("torn write"), 0o600))
	assert.Equal(t, &migration.Book{}, loadBook(path), "unreadable: empty, rebuilt by the next read")
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}
