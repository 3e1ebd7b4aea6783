package store

import (
	"fmt"
	"strings"
	"testing"
)

// The zero padding keeps string order and numeric order the same.
func TestSortKeys(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{SlotSK("t", 7), fmt.Sprintf("S#%s#%08d", "t", 7)},
		{SlotSK("a#b", 123456789), fmt.Sprintf("S#%s#%08d", "a#b", 123456789)},
		{SlotSK("t", 0), "S#t#00000000"},
		{SlotSK("t", 12345678), "S#t#12345678"},
		{SlotSK(strings.Repeat("long", 30), 5), "S#" + strings.Repeat("long", 30) + "#00000005"},
		{LeafSK(42, "x"), fmt.Sprintf("L#%012d#%s", 42, "x")},
		{LeafSK(0, "y"), fmt.Sprintf("L#%012d#%s", 0, "y")},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
