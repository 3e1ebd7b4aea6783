package yaql

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

// TestRecycledTokens compiles long and short expressions, valid and not,
// from several goroutines: tokens left over from one expression in a
// recycled slice must never leak into another's tree or error position.
func TestRecycledTokens(t *testing.T) {
	long := "$.a" + strings.Repeat(" + $.a", 600) // grows past the pooled size
	cases := []struct {
		src  string
		want any
		col  int // 0: compiles
	}{
		{long, int64(601), 0},
		{"$.a + 1", int64(2), 0},
		{"$.a +", nil, 6},
		{"task(t1).result", nil, 0},
		{"1 # 2", nil, 3},
		{"'unterminated", nil, 1},
		{"$.a", int64(1), 0},
	}
	env := &Env{Data: map[string]any{"a": int64(1)}}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				for _, c := range cases {
					e, err := Compile(c.src)
					if c.col != 0 {
						var se *SyntaxError
						if !errors.As(err, &se) || se.Column != c.col {
							t.Errorf("%q: error %v, want one at column %d", c.src, err, c.col)
						}
						continue
					}
					if err != nil {
						t.Errorf("%q: %v", c.src, err)
						continue
					}
					if c.want == nil {
						continue
					}
					if v, err := e.Eval(env); err != nil || v != c.want {
						t.Errorf("%q = %v, %v; want %v", c.src, v, err, c.want)
					}
				}
			}
		}()
	}
	wg.Wait()
}
