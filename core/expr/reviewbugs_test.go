//go:build reviewbugs

package expr

import (
	"encoding/json"
	"testing"
)

// Known differences from Mistral 23.0.0 found in review, each checked with
// core/compat's oracle (mistral.expressions.evaluate) and not fixed yet.
// They fail today; run them with go test -tags reviewbugs ./core/expr.
func TestReviewBugsAgainstMistral(t *testing.T) {
	data := map[string]any{"xs": []any{int64(1), int64(2)}, "s": "__lf_markup__hi"}
	for _, c := range []struct{ src, want string }{
		// yaql's list() splices an iterator however it reached list(), not
		// only a query written as its argument.
		{"<% let(a => $.xs.select($)) -> list($a) %>", `[1,2]`},
		{"<% list(switch(true => $.xs.select($))) %>", `[1,2]`},
		{"<% list(coalesce(null, $.xs.select($))) %>", `[1,2]`},
		{"<% list($.xs.select($) or []) %>", `[1,2]`},
		// A user's string that starts as the internal Markup mark stays as it is.
		{"x {{ [_.s] }}", `"x ['__lf_markup__hi']"`},
	} {
		v, err := MustCompile(c.src).Eval(&Context{Data: data})
		if err != nil {
			t.Errorf("%s: %v, want %s", c.src, err, c.want)
			continue
		}
		got, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("%s = %s, want %s (Mistral 23.0.0)", c.src, got, c.want)
		}
	}
}
