package expr

import (
	"strings"
	"testing"
)

// A conditional Jinja2 refuses is refused, with the place of the token
// that does not fit in the source as written.
func TestJinjaConditionalSyntaxErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"{{ 1 if 0 if 1 else 1 else 2 }}", "unexpected 'else' (line 1, column 23)"},
		{"{{ [1 if 1 else] }}", `Line: 1 Col: 16, near "]"`},
		{"{{ [1 else 2] }}", `Line: 1 Col: 7, near "else"`},
		{"{{ [1 if] }}", `Line: 1 Col: 7, near "if"`},
		{"{% set x = [1,\n  2 if 0,\n 3 if] %}{{ x }}", `Line: 3 Col: 4, near "if"`},
		{"{{ (1 if 0 else) }}", `Line: 1 Col: 16, near ")"`},
		{"{% set x = [1 if 0 else] %}{{ x }}", `Line: 1 Col: 24, near "]"`},
		// Jinja2's if and elif tags take a conditional only in parentheses.
		{"{% if 1 if 1 else 0 %}a{% endif %}{{ 1 }}", "got 'if': a conditional in its test needs parentheses, as in Jinja2 (line 1, column 9)"},
		{"{% if 0 %}{% elif\n 1 if 1 %}a{% endif %}{{ 1 }}", "end of the elif tag, got 'if': a conditional in its test needs parentheses, as in Jinja2 (line 2, column 4)"},
	}
	for _, c := range cases {
		_, err := Compile(c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.src, err, c.want)
		}
	}
}
