package workload

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func program(path, content string, opened *int) *Executable {
	return &Executable{Path: path, Open: func() (io.ReadCloser, error) {
		*opened++
		return io.NopCloser(bytes.NewReader([]byte(content))), nil
	}}
}

// The exporter's binary is tens of megabytes: it is read and pushed once per build, and the
// build before it is removed once the new one is in place.
func TestExecutablePushedOncePerBuild(t *testing.T) {
	f := newFakePebble(t)
	w := New(f)
	var opened int
	d := baseDesired()
	d.Companion = &Companion{Name: "mm2-exporter", Command: "/opt/mirrormaker-k8s/bin/mm-a export"}
	d.Executable = program("/opt/mirrormaker-k8s/bin/mm-a", "build a", &opened)

	res, err := w.Apply(d)
	require.NoError(t, err)
	assert.Contains(t, res.Pushed, "/opt/mirrormaker-k8s/bin/mm-a")
	assert.Equal(t, uint32(0o755), f.files["/opt/mirrormaker-k8s/bin/mm-a"].perm)
	assert.Equal(t, 1, opened)

	res, err = w.Apply(d)
	require.NoError(t, err)
	assert.Empty(t, res.Pushed)
	assert.Equal(t, 1, opened, "a build in place is not read again")
	assert.False(t, res.Restarted, "MM2 does not run the program: it is not restarted for it")

	d.Executable = program("/opt/mirrormaker-k8s/bin/mm-b", "build b", &opened)
	d.Companion.Command = "/opt/mirrormaker-k8s/bin/mm-b export"
	res, err = w.Apply(d)
	require.NoError(t, err)
	assert.Equal(t, []string{"/opt/mirrormaker-k8s/bin/mm-b"}, res.Pushed)
	assert.NotContains(t, f.files, "/opt/mirrormaker-k8s/bin/mm-a", "the earlier build is removed")
	assert.Equal(t, "build b", string(f.files["/opt/mirrormaker-k8s/bin/mm-b"].content))
	assert.False(t, res.Restarted)
}

// A file only the companion reads is pushed without restarting MM2: the exporter's config changes
// with leadership and cutover phases, which must not interrupt the copy.
func TestQuietFileRestartsNothing(t *testing.T) {
	f := newFakePebble(t)
	w := New(f)
	d := baseDesired()
	d.Files = append(d.Files, File{Path: "/etc/kafka/mm2-exporter.json", Content: []byte(`{"active":false}`), Quiet: true})
	_, err := w.Apply(d)
	require.NoError(t, err)
	starts := f.starts

	d.Files[len(d.Files)-1].Content = []byte(`{"active":true}`)
	res, err := w.Apply(d)
	require.NoError(t, err)
	assert.Equal(t, []string{"/etc/kafka/mm2-exporter.json"}, res.Pushed)
	assert.False(t, res.Restarted)
	assert.Equal(t, starts, f.starts)

	// The same change without Quiet restarts MM2, which reads its files only when it starts.
	d.Files[len(d.Files)-1].Content = []byte(`{"active":false}`)
	d.Files[len(d.Files)-1].Quiet = false
	res, err = w.Apply(d)
	require.NoError(t, err)
	assert.True(t, res.Restarted)
}

// A program that cannot be pushed keeps the companion from starting, never MM2 from running,
// and the error names the companion so the charm does not read it as MM2 down.
func TestExecutableFailureSparesMM2(t *testing.T) {
	f := newFakePebble(t)
	w := New(f)
	d := baseDesired()
	d.Companion = &Companion{Name: "mm2-exporter", Command: "/opt/mirrormaker-k8s/bin/mm-a export"}
	d.Executable = &Executable{Path: "/opt/mirrormaker-k8s/bin/mm-a", Open: func() (io.ReadCloser, error) {
		return nil, errors.New("disk on fire")
	}}
	res, err := w.Apply(d)
	var ce *ChangeError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "mm2-exporter", ce.Service)
	assert.ErrorContains(t, err, "cannot push the program for mm2-exporter: cannot read mm-a to push it: disk on fire")
	assert.True(t, res.Started, "MM2 started")
	assert.Equal(t, StateActive, res.State)
	assert.False(t, res.CompanionStarted)
}
