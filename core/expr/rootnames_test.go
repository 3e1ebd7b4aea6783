package expr

import (
	"slices"
	"testing"
)

// RootNames lists what an expression reads of $ only when $.name is all it
// reads, so that $ may hold just those names; anything that sees $ whole
// (bare $, a method on $, Jinja's _) or that the scan cannot vouch for
// says no.
func TestRootNames(t *testing.T) {
	for src, want := range map[string][]string{
		"<% $.a + $.b.c %>":            {"a", "b"},
		"<% $.xs.where($.y > 1) %>":    {"xs", "y"},
		"x <% $.a %> and <% $.a[0] %>": {"a"},
		"<% task().result %>":          nil,
		"<% $.a_1 = 2 and $.B %>":      {"a_1", "B"},
		"<% $ %>":                      {"!"},
		"<% $.get(a) %>":               {"!"},
		"<% $.keys () %>":              {"!"},
		"<% $.a.len() + $ . b %>":      {"!"},
		"<% $['a'] %>":                 {"!"},
		"<% $1 %>":                     {"!"},
		"<% '5$' %>":                   {"!"},
		"<% $.é %>":                    {"!"},
		"<% $.aé %>":                   {"!"},
		"{{ _.a }}":                    {"!"},
		"{% if _.a %}x{% endif %}":     {"!"},
	} {
		v := MustCompile(src)
		got, ok := v.RootNames()
		if want != nil && want[0] == "!" {
			if ok {
				t.Errorf("%s: names %q, want none (reads $ whole)", src, got)
			}
			continue
		}
		if !ok || !slices.Equal(got, want) {
			t.Errorf("%s: names %q (%v), want %q", src, got, ok, want)
		}
	}
}
