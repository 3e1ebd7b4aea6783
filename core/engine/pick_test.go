package engine

import (
	"fmt"
	"testing"

	"github.com/lazyflow/lazyflow/core/expr"
	"github.com/lazyflow/lazyflow/core/value"
)

// An expression that reads $ only as $.name sees, for every name, what it
// would see in the whole of $: the item's variable over the branch, the
// branch over vars, vars over the input, a branch's bookkeeping never, and a
// name nowhere is missing (an error for $.name, as over the whole of $).
func TestPickedRootMatchesWholeRoot(t *testing.T) {
	in := value.MapFromPairs("a", "in", "b", "in", "c", "in", "d", "in", versionsKey, "in")
	vars := value.MapFromPairs("b", "vars", "c", "vars", "e", "vars")
	branch := value.MapFromPairs("c", "branch", "f", "branch", "x", "branch", versionsKey, value.NewMap(0), roundsKey, 1)
	items := &itemList{vars: []string{"x", "y"}, lists: [][]any{{"x0", "x1"}, {"y0", "y1"}}, n: 2}
	bl := &builder{head: &Execution{Input: in, Vars: vars}}
	names := []string{"a", "b", "c", "d", "e", "f", "x", "y", versionsKey, roundsKey, "nowhere"}
	for _, it := range []*itemList{nil, items} {
		whole := bl.data(vars, branch, it, 1)
		for _, name := range names {
			got, has := bl.pick([]string{name}, vars, branch, it, 1)[name]
			want, whas := whole.Get(name)
			if has != whas || !value.Equal(got, want) {
				t.Errorf("items %v, %s: picked %v (%v), in the whole of $ %v (%v)", it != nil, name, got, has, want, whas)
			}
			if name[0] == '_' {
				continue // yaql reserves names starting with "__"
			}
			// Through a scope, as the engine evaluates: the same value, or the same error.
			one := expr.MustCompile("<% $." + name + " %>")
			v, err := bl.itemScope(branch, it, 1, nil).eval(one)
			wv, werr := (&scope{b: bl, raw: true, root: whole}).eval(one)
			if fmt.Sprint(err) != fmt.Sprint(werr) || !value.Equal(v, wv) {
				t.Errorf("items %v, $.%s: %v (%v), over the whole of $: %v (%v)", it != nil, name, v, err, wv, werr)
			}
		}
	}
}
