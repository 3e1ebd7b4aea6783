package dsl

import (
	"fmt"
	"sort"
	"strings"

	typos "github.com/lazyflow/lazyflow/core/internal/suggest"
)

// Error is one problem found in a definition, with where it is.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// String formats a position as file:line:col, the form editors jump to.
func (p Pos) String() string {
	file := p.File
	if file == "" {
		file = "<input>"
	}
	return fmt.Sprintf("%s:%d:%d", file, p.Line, p.Column)
}

// Errors is every problem found in one load, sorted by position. Load
// returns it as its error so a user fixes everything in one round.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Pos, es[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return es[i].Msg < es[j].Msg
	})
}

// dedupe drops repeats of the same message at the same place, which arise
// when one task-defaults entry is applied to several tasks. es must be sorted.
func (es Errors) dedupe() Errors {
	out := es[:0]
	for i, e := range es {
		if i > 0 && *e == *es[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// suggest returns " (did you mean "x"?)" when a known word is close to the
// unknown one, else "".
func suggest(word string, known []string) string {
	if best := typos.Closest(word, known); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}
