package workload

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secretsPath = "/etc/kafka/mm2-secrets.properties"

// TestGivenStampsWhenApplyThenFilesAreListedOnceAndPulledOnlyWhenInDoubt: a hook that hands
// Apply the stamps the previous one returned lists /etc/kafka once and reads no file back
// (the secrets file included) while the listing matches; a file whose listing moved, a file
// written in the very second it was checked, and a file with no stamp are read back; a stamp
// that vouches for other content than wanted pushes without reading.
func TestGivenStampsWhenApplyThenFilesAreListedOnceAndPulledOnlyWhenInDoubt(t *testing.T) {
	tests := []struct {
		name      string
		poke      func(f *fakePebble)     // after the stamps were taken
		apply     func(d Desired) Desired // what the next hook wants
		known     func(map[string]Stamp) map[string]Stamp
		wantPulls []string
		wantCalls []string
	}{{
		name: "nothing changed: nothing pulled",
	}, {
		name:      "no stamps handed over: every file pulled",
		known:     func(map[string]Stamp) map[string]Stamp { return nil },
		wantPulls: []string{"/etc/kafka/mm2.properties", secretsPath},
	}, {
		name: "secrets rewritten behind our back, same size, a later second: pulled, pushed back",
		poke: func(f *fakePebble) {
			f.now = f.now.Add(3 * time.Second)
			f.files[secretsPath].content = []byte(secretContent[:len(secretContent)-1] + "X")
			f.files[secretsPath].mtime = f.now
		},
		wantPulls: []string{secretsPath},
		wantCalls: []string{"push " + secretsPath, "restart"},
	}, {
		name: "a new password: pushed without reading the old one back",
		apply: func(d Desired) Desired {
			d.Files[1].Content = []byte(secretContent[:len(secretContent)-1] + "Y")
			return d
		},
		wantCalls: []string{"push " + secretsPath, "restart"},
	}, {
		name: "a stamp of another size or mode is not trusted",
		known: func(k map[string]Stamp) map[string]Stamp {
			s := k[secretsPath]
			s.Mode = 0o644
			k[secretsPath] = s
			return k
		},
		wantPulls: []string{secretsPath},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakePebble(t)
			w := New(f)
			// Hooks run seconds apart: each check is in a later second than the last write.
			w.now = func() time.Time { return f.now.Add(2 * time.Second) }
			d := baseDesired()
			_, err := w.Apply(d) // pushes: no stamps yet
			require.NoError(t, err)
			f.now = f.now.Add(5 * time.Second)
			res, err := w.Apply(d) // reads both back once, and stamps them
			require.NoError(t, err)
			require.Len(t, res.Stamps, 2)
			known := res.Stamps
			if tt.known != nil {
				known = tt.known(known)
			}
			if tt.poke != nil {
				tt.poke(f)
			}
			if tt.apply != nil {
				d = tt.apply(withFile(d, "clusters=old,new\n"))
			}
			d.Known = known
			f.calls, f.pulls, f.lists = nil, nil, nil
			_, err = w.Apply(d)
			require.NoError(t, err)
			assert.Equal(t, tt.wantPulls, f.pulls, "files read back")
			assert.Equal(t, tt.wantCalls, f.calls, "mutating calls")
			assert.Equal(t, []string{"/etc/kafka"}, f.lists, "one listing of the folder")
			assert.Equal(t, string(d.Files[1].Content), string(f.files[secretsPath].content))
		})
	}
}

// TestGivenAFileWrittenInTheSecondOfTheCheckThenNoStamp: Pebble's modification times have
// whole seconds, so a write later in the same second would list the same; no stamp is taken
// until a check begins in a later second.
func TestGivenAFileWrittenInTheSecondOfTheCheckThenNoStamp(t *testing.T) {
	f := newFakePebble(t)
	w := New(f)
	w.now = func() time.Time { return f.now }
	d := baseDesired()
	_, err := w.Apply(d)
	require.NoError(t, err)
	res, err := w.Apply(d)
	require.NoError(t, err)
	assert.Empty(t, res.Stamps, "checked in the second the files were written")

	f.now = f.now.Add(time.Second)
	res, err = w.Apply(d)
	require.NoError(t, err)
	assert.Len(t, res.Stamps, 2, "checked a second later")
}
