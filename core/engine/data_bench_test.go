package engine

import (
	"fmt"
	"testing"

	"github.com/lazyflow/lazyflow/core/expr"
	"github.com/lazyflow/lazyflow/core/value"
)

// BenchmarkRootData measures what one expression's $ costs: building it
// from the input, vars and branch context, alone and with a lookup
// evaluated over it: <% $.b1 %> (lookup), which gets only the names it
// reads, and <% $.get(b1) %> (lookup-whole), which reads $ whole. Figures
// per shape: n names in each layer.
func BenchmarkRootData(b *testing.B) {
	for _, n := range []int{2, 10, 50} {
		layer := func(p string) *value.Map {
			m := value.NewMap(n)
			for i := range n {
				m.Set(fmt.Sprintf("%s%d", p, i), int64(i))
			}
			return m
		}
		in, vars, branch := layer("i"), layer("v"), layer("b")
		bl := &builder{head: &Execution{Input: in, Vars: vars}}
		lookup, err := expr.Compile("<% $.b1 %>")
		if err != nil {
			b.Fatal(err)
		}
		whole, err := expr.Compile("<% $.get(b1) %>")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("build/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				_ = bl.data(vars, branch, nil, 0)
			}
		})
		b.Run(fmt.Sprintf("lookup/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := bl.scope(branch, nil).eval(lookup); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("lookup-whole/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := bl.scope(branch, nil).eval(whole); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
