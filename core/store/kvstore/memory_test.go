package kvstore

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The partition's lazily merged index scans exactly the live keys with a
// prefix, in order, through any mix of inserts, deletes and re-inserts.
func TestPartitionIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	p := &partition{vals: map[string]any{}}
	live := map[string]bool{}
	for step := 0; step < 3000; step++ {
		k := fmt.Sprintf("%c#%03d", "ABST"[r.IntN(4)], r.IntN(200))
		if r.IntN(4) == 0 {
			p.del(k)
			delete(live, k)
		} else {
			p.put(k, step)
			live[k] = true
		}
		if step%97 == 0 {
			for _, prefix := range []string{"", "A#", "S#1", "T#19"} {
				var want []string
				for k := range live {
					if strings.HasPrefix(k, prefix) {
						want = append(want, k)
					}
				}
				slices.Sort(want)
				var got []string
				for _, k := range p.withPrefix(prefix) {
					if _, ok := p.vals[k]; ok {
						got = append(got, k)
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("step %d prefix %q: got %d keys, want %d", step, prefix, len(got), len(want))
				}
			}
		}
	}
}
