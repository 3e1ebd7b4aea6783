package expr

import (
	"regexp"

	"github.com/lazyflow/lazyflow/core/value"
)

var (
	yaqlMarker = regexp.MustCompile(`(?s)<%.*?%>`)
	// Mistral's InlineJinjaEvaluator patterns: a {{ }} or {% %} on one line;
	// a string whose braces only pair across lines is plain text there.
	jinjaMarker = regexp.MustCompile(`{{.*?}}|{%.*?%}`)
)

// toString renders an expression result inside interpolated text, as
// Mistral's str() does (see value.String for the one deliberate difference).
func toString(v any) string { return value.String(v) }

// truthy is Python's truth test, which Mistral conditions follow.
func truthy(v any) bool { return value.Truthy(v) }
