package dsl

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lazyflow/lazyflow/core/expr"
)

// maxAliasExpansion bounds YAML alias expansion so a "billion laughs"
// document fails instead of eating memory.
const maxAliasExpansion = 100_000

// Load parses a workflow file or workbook, validates it and compiles every
// expression. file names the source in error positions. On any problem the
// error is an Errors listing all of them; Load never panics.
func Load(file string, src []byte) (doc *Document, err error) {
	return LoadWith(file, src, Options{})
}

// Options adds checks to Load.
type Options struct {
	// Actions, when set, is what the validator knows of the actions that
	// can run: a std.* action it does not know and an input a known action
	// does not take (or lacks) are errors at their task. Other unknown
	// names are left to run time, as Mistral does (another runner may
	// provide them).
	Actions ActionCatalog
}

// ActionCatalog describes the actions a host can run.
type ActionCatalog interface {
	// ActionInputs says whether action name exists and, when declared,
	// the input names it requires and accepts.
	ActionInputs(name string) (required, optional []string, declared, exists bool)
	// Names lists the actions, for "did you mean".
	Names() []string
}

// LoadWith is Load with the checks opt adds.
func LoadWith(file string, src []byte, opt Options) (doc *Document, err error) {
	l := &loader{file: file, opt: opt}
	defer func() {
		if p := recover(); p != nil {
			doc = nil
			err = Errors{{Pos: Pos{File: file, Line: 1, Column: 1}, Msg: fmt.Sprintf("internal error while loading (please report): %v", p)}}
		}
	}()
	doc = l.load(src)
	if len(l.errs) > 0 {
		l.errs.sort()
		return nil, l.errs.dedupe()
	}
	if len(l.warns) > 0 {
		l.warns.sort()
		doc.Warnings = l.warns.dedupe()
	}
	return doc, nil
}

type loader struct {
	file  string
	opt   Options
	warns Errors
	// broken holds tasks whose input or inline parameters had an error
	// already reported: checks of their input would only add false ones.
	broken   map[*Task]bool
	errs     Errors
	expanded int
	// exprs compiles each distinct expression of the document once: large
	// generated workflows repeat the same few expressions in every task.
	exprs expr.Compiler
}

func (l *loader) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: l.file, Line: 1, Column: 1}
	}
	return Pos{File: l.file, Line: n.Line, Column: n.Column}
}

func (l *loader) errf(n *yaml.Node, format string, args ...any) {
	l.errs = append(l.errs, &Error{Pos: l.pos(n), Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) warnf(n *yaml.Node, format string, a ...any) {
	l.warns = append(l.warns, &Error{Pos: l.pos(n), Msg: fmt.Sprintf(format, a...)})
}

// load parses src and reads it; a YAML syntax error is reported at the
// line that breaks the document.
func (l *loader) load(src []byte) *Document {
	root, err := parseYAML(src)
	if err != nil {
		line := 1
		msg := err.Error()
		// yaml.v3 reports "yaml: line N: ..." with no column.
		var n int
		if _, e := fmt.Sscanf(strings.TrimPrefix(msg, "yaml: "), "line %d:", &n); e == nil && n > 0 {
			line = n
			// yaml.v3 names the line where the enclosing mapping or list
			// began, not the offending one: report the line that breaks it.
			if at := firstBadLine(src); at > line {
				line = at
				msg = "line " + strconv.Itoa(at) + msg[strings.Index(msg, ":"):]
				msg = strings.Replace(msg, ": line "+strconv.Itoa(n)+":", ":", 1)
			}
		}
		l.errs = append(l.errs, &Error{Pos: Pos{File: l.file, Line: line, Column: 1}, Msg: "not valid YAML: " + strings.TrimPrefix(msg, "yaml: ")})
		return nil
	}
	return l.loadRoot(root, src)
}

// firstBadLine is the first line whose inclusion makes src fail to parse
// (0 if that cannot be found): the shortest failing prefix of whole lines,
// by bisection, as a prefix that stops before the offending line parses.
// Only for an error, so a dozen parses of a prefix are fine.
func firstBadLine(src []byte) int {
	var ends []int // byte offset after each line
	for i, c := range src {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(src) {
		ends = append(ends, len(src))
	}
	problem := func(k int) string {
		var n yaml.Node
		err := yaml.Unmarshal(src[:ends[k-1]], &n)
		if err == nil {
			return ""
		}
		msg := err.Error()
		return msg[strings.LastIndex(msg, ":")+1:]
	}
	// A prefix can fail for a reason of its own (it ends inside a quoted
	// string): only the same problem as the whole file's counts.
	want := problem(len(ends))
	fails := func(k int) bool { return problem(k) == want }
	if want == "" {
		return 0
	}
	lo, hi := 1, len(ends) // fails(hi); find the least such
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}
