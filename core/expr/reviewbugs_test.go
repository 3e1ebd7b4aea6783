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
	data := map[string]any{"s": "__lf_markup__hi"}
	for _, c := range []struct{ src, want string }{
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
