package migration

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGroupPartitionIsJavaPartitionFor(t *testing.T) {
	// Values from Java: Utils.abs("billing".hashCode()) % 50 and friends,
	// computed by hand from String.hashCode's definition.
	for _, tc := range []struct {
		group string
		n     int
		want  int32
	}{
		{"", 50, 0},
		{"a", 50, 97 % 50},
		{"ab", 50, (97*31 + 98) % 50},
		{"billing", 50, javaHashMod("billing", 50)},
		{"polygenelubricants", 50, 0}, // hashCode is Integer.MIN_VALUE: abs maps it to 0
		{"é☃", 7, (0xe9*31 + 0x2603) % 7},
		{"\U0001F600", 5, javaHashMod("\U0001F600", 5)}, // surrogate pair
	} {
		assert.Equal(t, tc.want, groupPartition(tc.group, tc.n), tc.group)
	}
}

// javaHashMod is an independent long-hand String.hashCode (UTF-16, int32
// overflow) for the table above.
func javaHashMod(s string, n int) int32 {
	var units []uint16
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			units = append(units, uint16(0xd800+(r>>10)), uint16(0xdc00+(r&0x3ff)))
		} else {
			units = append(units, uint16(r))
		}
	}
	var h int64
	for _, u := range units {
		h = int64(int32(h*31 + int64(u)))
	}
	if h < 0 {
		h = -h
	}
	return int32(h % int64(n))
}
