package dsl

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lazyflow/lazyflow/core/expr"
)

// Keys each section accepts. The lists also feed "did you mean".
var (
	workbookKeys        = []string{"version", "name", "description", "tags", "workflows", "actions"}
	workflowKeys        = []string{"tasks", "type", "description", "tags", "input", "output", "output-on-error", "vars", "task-defaults", "name", "version"}
	actionKeys          = []string{"base", "base-input", "input", "output", "description", "tags", "name"}
	taskKeys            = taskKeyList[:]
	directOnlyTaskKeys  = []string{"on-success", "on-error", "on-complete", "on-skip", "join"}
	reverseOnlyTaskKeys = []string{"requires"}
	taskDefaultKeys     = []string{
		"retry", "wait-before", "wait-after", "timeout", "pause-before", "concurrency", "fail-on",
		"on-complete", "on-success", "on-error", "on-skip", "safe-rerun", "requires", "keep-result",
	}
	retryKeys   = []string{"count", "delay", "break-on", "continue-on"}
	publishKeys = []string{ScopeBranch, ScopeGlobal, ScopeAtomic}
	commands    = []string{CmdFail, CmdSucceed, CmdPause, CmdNoop}
)

// taskKeyList is taskKeys as an array, whose length sizes taskAttrs.
var taskKeyList = [...]string{
	"description", "type", "action", "workflow", "input", "publish", "publish-on-error", "publish-on-skip",
	"with-items", "concurrency", "retry", "timeout", "wait-before", "wait-after", "pause-before",
	"keep-result", "safe-rerun", "target", "fail-on", "tags", "name",
	"on-success", "on-error", "on-complete", "on-skip", "join", "requires",
}

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

// pair is one key/value of a YAML mapping.
type pair struct {
	k, v *yaml.Node
}

// deref follows aliases, charging each use against the expansion budget.
func (l *loader) deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// pairs lists a mapping's entries, reporting duplicate keys and applying
// YAML merge keys (<<).
func (l *loader) pairs(n *yaml.Node, what string) []pair {
	n = l.deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([]pair, 0, len(n.Content)/2)
	// A set only pays for itself on large mappings (tasks); most have a
	// handful of keys, which a scan of out checks faster. Either way it
	// answers "is this key in out already".
	var seen map[string]bool
	if len(n.Content) > 2*smallMapping {
		seen = make(map[string]bool, len(n.Content)/2)
	}
	has := func(key string) bool {
		if seen != nil {
			return seen[key]
		}
		for _, p := range out {
			if p.k.Value == key {
				return true
			}
		}
		return false
	}
	add := func(p pair) {
		out = append(out, p)
		if seen != nil {
			seen[p.k.Value] = true
		}
	}
	var merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], l.deref(n.Content[i+1])
		if v == nil {
			v = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: k.Line, Column: k.Column}
		}
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge" {
			srcs := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				srcs = v.Content
			}
			for _, s := range srcs {
				merged = append(merged, l.pairs(s, what)...)
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			l.errf(k, "%s keys must be plain text", what)
			continue
		}
		if has(k.Value) {
			if what == "tasks" {
				l.errf(k, "duplicate task name %q", k.Value)
			} else {
				l.errf(k, "duplicate key %q in %s", k.Value, what)
			}
			continue
		}
		add(pair{k, v})
	}
	for _, p := range merged {
		if !has(p.k.Value) {
			add(p)
		}
	}
	return out
}

// smallMapping is the number of keys up to which pairs finds duplicates by
// scanning rather than with a map.
const smallMapping = 16

// checkKeys reports keys not in known, with a suggestion.
func (l *loader) checkKeys(ps []pair, known []string, what string) {
	for _, p := range ps {
		if !contains(known, p.k.Value) {
			l.errf(p.k, "unknown key %q in %s%s", p.k.Value, what, suggest(p.k.Value, known))
		}
	}
}

func (l *loader) warnf(n *yaml.Node, format string, a ...any) {
	l.warns = append(l.warns, &Error{Pos: l.pos(n), Msg: fmt.Sprintf(format, a...)})
}

// checkWorkflowKeys is checkKeys for a workflow's own keys, which Mistral
// does not check: a key close to a known one is a misspelling (an error,
// with the suggestion); any other is kept out of the way with a warning,
// as some workbooks park YAML anchors under keys of their own.
func (l *loader) checkWorkflowKeys(ps []pair, what string) {
	for _, p := range ps {
		if contains(workflowKeys, p.k.Value) {
			continue
		}
		if hint := suggest(p.k.Value, workflowKeys); hint != "" {
			l.errf(p.k, "unknown key %q in %s%s", p.k.Value, what, hint)
			continue
		}
		l.warnf(p.k, "unknown key %q in %s is ignored (as Mistral ignores it)", p.k.Value, what)
	}
}

// unclosed finds a string in v with a '<%' that no '%>' closes: Mistral
// keeps such text as it is, and so does Lazyflow, with a warning.
func unclosed(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		if i := strings.LastIndex(x, "<%"); i >= 0 && !strings.Contains(x[i:], "%>") {
			return x, true
		}
	case map[string]any:
		for _, e := range x {
			if s, ok := unclosed(e); ok {
				return s, true
			}
		}
	case []any:
		for _, e := range x {
			if s, ok := unclosed(e); ok {
				return s, true
			}
		}
	}
	return "", false
}

func (l *loader) warnUnclosed(n *yaml.Node, v any) {
	if s, ok := unclosed(v); ok {
		l.warnf(n, "%q has a '<%%' with no closing '%%>': it is kept as plain text, as Mistral keeps it", s)
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

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

// loadRoot reads a parsed document.
func (l *loader) loadRoot(root *yaml.Node, src []byte) *Document {
	if root.Kind == 0 || len(root.Content) == 0 {
		l.errf(nil, "the file is empty: expected version: '2.0' and at least one workflow")
		return nil
	}
	top := l.deref(root.Content[0])
	if top == nil || top.Kind != yaml.MappingNode {
		l.errf(top, "the file must be a YAML mapping with version: '2.0' and workflows")
		return nil
	}
	doc := &Document{Workflows: map[string]*Workflow{}, Actions: map[string]*Action{}, Source: src}
	ps := l.pairs(top, "the document")

	workbook := false
	for _, p := range ps {
		switch p.k.Value {
		case "workflows", "actions":
			workbook = true
		case "name":
			if p.v.Kind == yaml.ScalarNode {
				workbook = true
			}
		}
	}

	versionSeen := false
	var wfPairs []pair
	for _, p := range ps {
		switch {
		case p.k.Value == "version":
			versionSeen = true
			v := p.v.Value
			if p.v.Kind != yaml.ScalarNode || (v != "2.0" && v != "2" && v != "v2.0") {
				l.errf(p.v, "unsupported version %q: only version '2.0' of the Mistral language is supported", v)
			}
			doc.Version = "2.0"
		case workbook && p.k.Value == "name":
			doc.Name = l.str(p.v, "workbook name")
		case p.k.Value == "description" && (workbook || p.v.Kind == yaml.ScalarNode):
		case p.k.Value == "tags" && (workbook || p.v.Kind == yaml.SequenceNode):
		case workbook && p.k.Value == "workflows":
			if p.v.Kind != yaml.MappingNode {
				l.errf(p.v, "workflows must be a mapping of workflow names to workflows")
				continue
			}
			wfPairs = append(wfPairs, l.pairs(p.v, "workflows")...)
		case workbook && p.k.Value == "actions":
			if p.v.Kind != yaml.MappingNode {
				l.errf(p.v, "actions must be a mapping of action names to actions")
				continue
			}
			for _, ap := range l.pairs(p.v, "actions") {
				if a := l.action(ap.k, ap.v); a != nil {
					doc.Actions[a.Name] = a
				}
			}
		case workbook:
			l.errf(p.k, "unknown key %q in the workbook%s", p.k.Value, suggest(p.k.Value, workbookKeys))
		default:
			if p.v.Kind != yaml.MappingNode {
				l.errf(p.k, "%q is not a workflow: a workflow must be a mapping with tasks%s", p.k.Value, suggest(p.k.Value, []string{"version", "description", "tags"}))
				continue
			}
			if hasKey(p.v, "base") && !hasKey(p.v, "tasks") {
				// An action definition file (mistral action-create): ad-hoc actions at the top level.
				if a := l.action(p.k, p.v); a != nil {
					doc.Actions[a.Name] = a
				}
				continue
			}
			wfPairs = append(wfPairs, p)
		}
	}
	if !versionSeen {
		l.errf(top, "missing version: add version: '2.0' at the top of the file")
	}
	for _, p := range wfPairs {
		if p.v.Kind != yaml.MappingNode {
			l.errf(p.v, "workflow %q must be a mapping with tasks", p.k.Value)
			continue
		}
		if wf := l.workflow(p.k, p.v); wf != nil {
			doc.Workflows[wf.Name] = wf
			doc.Order = append(doc.Order, wf.Name)
		}
	}
	if len(doc.Workflows) == 0 && len(doc.Actions) == 0 && len(l.errs) == 0 {
		l.errf(top, "no workflow found: add a workflow name with a tasks mapping")
	}
	l.crossChecks(doc)
	return doc
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// str reads a scalar as text.
func (l *loader) str(n *yaml.Node, what string) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.errf(n, "%s must be text", what)
		return ""
	}
	return n.Value
}

// plain turns a node into a JSON-like Go value.
func (l *loader) plain(n *yaml.Node) any {
	n = l.deref(n)
	if n == nil {
		return nil
	}
	l.expanded++
	if l.expanded > maxAliasExpansion {
		if l.expanded == maxAliasExpansion+1 {
			l.errf(n, "the document expands to more than %d values (too many aliases)", maxAliasExpansion)
		}
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return scalar(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			out = append(out, l.plain(c))
		}
		return out
	case yaml.MappingNode:
		out := map[string]any{}
		for _, p := range l.pairs(n, "mapping") {
			out[p.k.Value] = l.plain(p.v)
		}
		return out
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			return l.plain(n.Content[0])
		}
	}
	return nil
}

// scalar decodes a scalar by its resolved YAML tag. The common forms are
// parsed directly because yaml's reflective Decode dominates load time.
func scalar(n *yaml.Node) any {
	switch n.Tag {
	case "!!null":
		return nil
	case "!!bool":
		switch n.Value {
		case "true", "True", "TRUE":
			return true
		case "false", "False", "FALSE":
			return false
		}
		var b bool
		if err := n.Decode(&b); err == nil {
			return b
		}
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			return i
		}
		var i int64
		if err := n.Decode(&i); err == nil {
			return i
		}
		var f float64
		if err := n.Decode(&f); err == nil {
			return f
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
		var f float64
		if err := n.Decode(&f); err == nil {
			return f
		}
	}
	return n.Value
}

// compile compiles a node's value, reporting bad expressions at the string
// that holds them.
func (l *loader) compile(n *yaml.Node) *expr.Value {
	if n == nil {
		return nil
	}
	pv := l.plain(n)
	v, err := l.exprs.Compile(pv)
	if err != nil {
		l.exprErrors(n, err)
		return nil
	}
	l.warnUnclosed(n, pv)
	return v
}

func (l *loader) compileValue(n *yaml.Node, v any) *expr.Value {
	c, err := l.exprs.Compile(v)
	if err != nil {
		l.exprErrors(n, err)
		return nil
	}
	l.warnUnclosed(n, v)
	return c
}

func (l *loader) exprErrors(n *yaml.Node, err error) {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	for _, e := range list {
		var ce *expr.CompileError
		if errors.As(e, &ce) {
			at := findScalar(n, ce.Text, 0)
			if at == nil {
				at = n
			}
			l.errf(at, "expression does not parse: %v", ce.Err)
			continue
		}
		l.errf(n, "%v", e)
	}
}

func findScalar(n *yaml.Node, text string, depth int) *yaml.Node {
	if n == nil || depth > 100 {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		return findScalar(n.Alias, text, depth+1)
	}
	if n.Kind == yaml.ScalarNode && n.Value == text {
		return n
	}
	for _, c := range n.Content {
		if f := findScalar(c, text, depth+1); f != nil {
			return f
		}
	}
	// Inline parameters (std.echo output=<% ... %>) hold the text inside a longer scalar.
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, text) {
		return n
	}
	return nil
}

func (l *loader) stringList(n *yaml.Node, what string) []string {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil
		}
		return []string{n.Value}
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			c = l.deref(c)
			if c == nil || c.Kind != yaml.ScalarNode {
				l.errf(c, "%s must be a list of names", what)
				continue
			}
			out = append(out, c.Value)
		}
		return out
	}
	l.errf(n, "%s must be a name or a list of names", what)
	return nil
}

// params reads input declarations: a list of names, or of name: default.
func (l *loader) params(n *yaml.Node, what string) []Param {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		l.errf(n, "%s must be a list of names or of name: default", what)
		return nil
	}
	var out []Param
	seen := map[string]bool{}
	for _, c := range n.Content {
		c = l.deref(c)
		var p Param
		var at *yaml.Node = c
		switch {
		case c == nil:
			continue
		case c.Kind == yaml.ScalarNode:
			p.Name = c.Value
		case c.Kind == yaml.MappingNode && len(c.Content) == 2:
			p.Name = c.Content[0].Value
			p.HasDefault = true
			p.Default = l.compile(c.Content[1])
			at = c.Content[0]
		default:
			l.errf(c, "each entry of %s must be a name or a single name: default", what)
			continue
		}
		if p.Name == "" {
			l.errf(at, "an entry of %s has an empty name", what)
			continue
		}
		if seen[p.Name] {
			l.errf(at, "%s declares %q twice", what, p.Name)
			continue
		}
		seen[p.Name] = true
		out = append(out, p)
	}
	return out
}

func (l *loader) action(k, n *yaml.Node) *Action {
	a := &Action{Name: k.Value, Pos: l.pos(k)}
	if n.Kind != yaml.MappingNode {
		l.errf(n, "action %q must be a mapping with base", a.Name)
		return nil
	}
	ps := l.pairs(n, "action "+a.Name)
	l.checkKeys(ps, actionKeys, fmt.Sprintf("action %q", a.Name))
	var baseInput map[string]any
	var baseInputNode *yaml.Node
	hasBase := false
	for _, p := range ps {
		switch p.k.Value {
		case "base":
			hasBase = true
			name, params, err := splitInline(l.str(p.v, "base"))
			if err != nil {
				l.errf(p.v, "%v", err)
			}
			a.Base = name
			if len(params) > 0 {
				baseInput = params
				baseInputNode = p.v
			}
		case "base-input":
			if p.v.Kind != yaml.MappingNode {
				l.errf(p.v, "base-input must be a mapping of parameter names to values")
				continue
			}
			m, _ := l.plain(p.v).(map[string]any)
			if baseInput == nil {
				baseInput = map[string]any{}
			}
			for key, val := range m {
				baseInput[key] = val
			}
			baseInputNode = p.v
		case "input":
			a.Input = l.params(p.v, "input")
		case "output":
			a.Output = l.compile(p.v)
		}
	}
	if !hasBase {
		l.errf(k, "action %q has no base: name the action it is built on", a.Name)
	}
	if baseInput != nil {
		a.BaseInput = l.compileValue(baseInputNode, baseInput)
	}
	return a
}

func (l *loader) workflow(k, n *yaml.Node) *Workflow {
	wf := &Workflow{Name: k.Value, Pos: l.pos(k), Type: Direct, Tasks: map[string]*Task{}, Inbound: map[string][]string{}}
	ps := l.pairs(n, "workflow "+wf.Name)
	l.checkWorkflowKeys(ps, fmt.Sprintf("workflow %q", wf.Name))
	var tasksNode, defaultsNode *yaml.Node
	for _, p := range ps {
		switch p.k.Value {
		case "type":
			t := l.str(p.v, "type")
			if t != Direct && t != Reverse {
				l.errf(p.v, "unknown workflow type %q: use direct or reverse%s", t, suggest(t, []string{Direct, Reverse}))
			} else {
				wf.Type = t
			}
		case "description":
			wf.Description = p.v.Value
		case "tags":
			wf.Tags = l.stringList(p.v, "tags")
		case "input":
			wf.Input = l.params(p.v, "input")
		case "output":
			wf.Output = l.compile(p.v)
		case "output-on-error":
			wf.OutputOnError = l.compile(p.v)
		case "vars":
			if p.v.Kind != yaml.MappingNode && !(p.v.Kind == yaml.ScalarNode && p.v.Tag == "!!null") {
				l.errf(p.v, "vars must be a mapping of names to values")
				continue
			}
			wf.Vars = l.compile(p.v)
		case "task-defaults":
			defaultsNode = p.v
		case "tasks":
			tasksNode = p.v
		}
	}
	var defaults *taskDefaults
	if defaultsNode != nil {
		defaults = l.taskDefaults(wf, defaultsNode)
	}
	if tasksNode == nil {
		l.errf(k, "workflow %q has no tasks", wf.Name)
		return wf
	}
	if tasksNode.Kind != yaml.MappingNode || len(tasksNode.Content) == 0 {
		l.errf(tasksNode, "tasks of workflow %q must be a non-empty mapping of task names to tasks", wf.Name)
		return wf
	}
	taskNodes := map[string]*yaml.Node{}
	ps = l.pairs(tasksNode, "tasks")
	for i, t := range l.tasks(wf, ps, defaults) {
		p := ps[i]
		if t == nil {
			continue
		}
		wf.Tasks[t.Name] = t
		wf.TaskOrder = append(wf.TaskOrder, t.Name)
		taskNodes[t.Name] = p.k
	}
	l.graph(wf, taskNodes)
	return wf
}

// graph checks references between tasks and fills StartTasks and Inbound.
func (l *loader) graph(wf *Workflow, taskNodes map[string]*yaml.Node) {
	names := wf.TaskOrder
	if wf.Type == Reverse {
		for _, name := range names {
			t := wf.Tasks[name]
			for _, r := range t.Requires {
				if _, ok := wf.Tasks[r]; !ok {
					l.errs = append(l.errs, &Error{Pos: t.requiresPos, Msg: fmt.Sprintf("task %q requires %q, which is not a task of workflow %q%s", name, r, wf.Name, suggest(r, names))})
				}
			}
		}
		l.reverseCycles(wf)
		return
	}
	for _, name := range names {
		t := wf.Tasks[name]
		for _, list := range [][]Transition{t.OnSuccess, t.OnError, t.OnComplete, t.OnSkip} {
			for _, tr := range list {
				if tr.Task == "" {
					continue
				}
				if _, ok := wf.Tasks[tr.Task]; !ok {
					l.errs = append(l.errs, &Error{Pos: tr.Pos, Msg: fmt.Sprintf("task %q goes to %q, which is not a task of workflow %q%s", name, tr.Task, wf.Name, suggest(tr.Task, names))})
					continue
				}
				if !contains(wf.Inbound[tr.Task], name) {
					wf.Inbound[tr.Task] = append(wf.Inbound[tr.Task], name)
				}
			}
		}
	}
	for _, name := range names {
		if len(wf.Inbound[name]) == 0 {
			wf.StartTasks = append(wf.StartTasks, name)
		}
	}
	for _, name := range names {
		t := wf.Tasks[name]
		n := len(wf.Inbound[name])
		switch {
		case t.Join == JoinNone:
		case n < 2 && t.Join != JoinOne:
			// join: one with a single way in behaves like no join at all, and
			// Mistral's own test workbooks use it, so only all/N are refused.
			l.errs = append(l.errs, &Error{Pos: t.joinPos, Msg: fmt.Sprintf("task %q has join but %s: a join needs at least two incoming tasks", name, leadCount(n))})
		case t.Join == JoinCount && t.JoinN > n:
			l.errs = append(l.errs, &Error{Pos: t.joinPos, Msg: fmt.Sprintf("task %q joins %d tasks but only %d tasks lead to it, so it could never run", name, t.JoinN, n)})
		}
	}
	if len(wf.StartTasks) == 0 && len(names) > 0 {
		l.errs = append(l.errs, &Error{Pos: wf.Pos, Msg: fmt.Sprintf("workflow %q has no start task: every task is the target of a transition, so nothing can run first", wf.Name)})
	}
}

// reverseCycles reports a requires cycle, which would deadlock a reverse workflow.
func (l *loader) reverseCycles(wf *Workflow) {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	reported := false
	var visit func(name string, path []string)
	visit = func(name string, path []string) {
		if reported {
			return
		}
		color[name] = grey
		t := wf.Tasks[name]
		for _, r := range t.Requires {
			if _, ok := wf.Tasks[r]; !ok {
				continue
			}
			switch color[r] {
			case grey:
				cyc := append(append([]string{}, path...), name, r)
				i := indexOf(cyc, r)
				l.errs = append(l.errs, &Error{Pos: t.requiresPos, Msg: fmt.Sprintf("requires cycle in workflow %q: %s", wf.Name, strings.Join(cyc[i:], " -> "))})
				reported = true
				return
			case white:
				visit(r, append(path, name))
			}
		}
		color[name] = black
	}
	for _, name := range wf.TaskOrder {
		if color[name] == white {
			visit(name, nil)
		}
	}
}

func indexOf(list []string, s string) int {
	for i, e := range list {
		if e == s {
			return i
		}
	}
	return 0
}

// crossChecks validates references between workflows and actions of one document.
func (l *loader) crossChecks(doc *Document) {
	names := make([]string, 0, len(doc.Actions))
	for n := range doc.Actions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := doc.AdhocChain(n); err != nil {
			l.errs = append(l.errs, &Error{Pos: doc.Actions[n].Pos, Msg: err.Error()})
		}
	}
	if l.opt.Actions != nil {
		l.checkCatalog(doc, names)
	}
	for _, wfName := range doc.Order {
		wf := doc.Workflows[wfName]
		for _, name := range wf.TaskOrder {
			t := wf.Tasks[name]
			if l.broken[t] {
				continue
			}
			var params []Param
			var kind, target string
			switch {
			case t.Workflow != "":
				sub := doc.lookupWorkflow(t.Workflow)
				if sub == nil {
					continue
				}
				params, kind, target = sub.Input, "workflow", t.Workflow
			case t.Action != "":
				a := doc.lookupAction(t.Action)
				if a == nil {
					continue
				}
				params, kind, target = a.Input, "action", t.Action
			default:
				continue
			}
			src, ok := t.Input.Source().(map[string]any)
			if t.Input != nil && !ok {
				continue // input is one expression: only known at run time
			}
			var missing []string
			for _, p := range params {
				if _, given := src[p.Name]; !given && !p.HasDefault {
					missing = append(missing, p.Name)
				}
			}
			if len(missing) > 0 {
				l.errs = append(l.errs, &Error{Pos: t.Pos, Msg: fmt.Sprintf("task %q calls %s %q without its required input %s", name, kind, target, quoteList(missing))})
			}
		}
	}
}

// checkCatalog checks the calls of actions the catalog knows: every task
// whose action is named in the text (not an expression), and every ad-hoc
// action's base.
func (l *loader) checkCatalog(doc *Document, adhoc []string) {
	check := func(pos Pos, who, action string, input *expr.Value) {
		if doc.lookupAction(action) != nil {
			return // ad-hoc: its own input is checked with the workflow
		}
		req, opt, declared, exists := l.opt.Actions.ActionInputs(action)
		if !exists {
			switch {
			case slices.Contains(mistralOnly, action):
				l.errs = append(l.errs, &Error{Pos: pos, Msg: fmt.Sprintf("%s calls action %q, a Mistral action Lazyflow does not provide (it has %s)",
					who, action, quoteList(l.opt.Actions.Names()))})
			case strings.HasPrefix(action, "std."):
				l.errs = append(l.errs, &Error{Pos: pos, Msg: fmt.Sprintf("%s calls action %q, which does not exist%s",
					who, action, suggest(action, l.opt.Actions.Names()))})
			}
			return
		}
		src, ok := input.Source().(map[string]any)
		if !declared || input != nil && !ok {
			return // takes any input, or its input is one expression
		}
		known := append(append([]string(nil), req...), opt...)
		var unknown []string
		for k := range src {
			if !slices.Contains(known, k) {
				unknown = append(unknown, k)
			}
		}
		sort.Strings(unknown)
		for _, k := range unknown {
			hint := suggest(k, known)
			if hint == "" {
				hint = " (it takes " + takes(known) + ")"
			}
			l.errs = append(l.errs, &Error{Pos: pos, Msg: fmt.Sprintf("%s gives action %q the input %q, which it does not take%s",
				who, action, k, hint)})
		}
		var missing []string
		for _, k := range req {
			if _, ok := src[k]; !ok {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			l.errs = append(l.errs, &Error{Pos: pos, Msg: fmt.Sprintf("%s calls action %q without its required input %s", who, action, quoteList(missing))})
		}
	}
	for _, n := range adhoc {
		a := doc.Actions[n]
		check(a.Pos, fmt.Sprintf("ad-hoc action %q", n), a.Base, a.BaseInput)
	}
	for _, wfName := range doc.Order {
		wf := doc.Workflows[wfName]
		for _, name := range wf.TaskOrder {
			if t := wf.Tasks[name]; t.Action != "" && t.NameExpr == nil && !l.broken[t] {
				check(t.Pos, fmt.Sprintf("task %q", name), t.Action, t.Input)
			}
		}
	}
}

// mistralOnly are std actions Mistral ships that Lazyflow does not.
var mistralOnly = []string{"std.ssh", "std.ssh_proxied", "std.javascript", "std.js", "std.email", "std.wait_ssh", "std.test_dict"}

func takes(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return quoteList(names)
}

func leadCount(n int) string {
	if n == 1 {
		return "only one task leads to it"
	}
	return "no task leads to it"
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

func (d *Document) lookupWorkflow(name string) *Workflow {
	if wf, ok := d.Workflows[name]; ok {
		return wf
	}
	if d.Name != "" && strings.HasPrefix(name, d.Name+".") {
		return d.Workflows[strings.TrimPrefix(name, d.Name+".")]
	}
	return nil
}

// AdhocChain is the ad-hoc action name and, when its base is itself an
// ad-hoc action of this document, that one and so on, outermost first;
// empty when name is not an ad-hoc action. In a workbook a name may carry
// the workbook prefix (wb.action), as Mistral writes it.
func (d *Document) AdhocChain(name string) ([]*Action, error) {
	var chain []*Action
	for a := d.lookupAction(name); a != nil; a = d.lookupAction(a.Base) {
		for _, seen := range chain {
			if seen == a {
				return nil, fmt.Errorf("action %s: its base actions lead back to it", name)
			}
		}
		chain = append(chain, a)
	}
	return chain, nil
}

func (d *Document) lookupAction(name string) *Action {
	if a, ok := d.Actions[name]; ok {
		return a
	}
	if d.Name != "" && strings.HasPrefix(name, d.Name+".") {
		return d.Actions[strings.TrimPrefix(name, d.Name+".")]
	}
	return nil
}

// Workflow returns the named workflow; in a workbook the name may carry the
// workbook prefix (wb.wf), as Mistral writes it.
func (d *Document) Workflow(name string) (*Workflow, error) {
	if d == nil {
		return nil, errors.New("no document")
	}
	if wf := d.lookupWorkflow(name); wf != nil {
		return wf, nil
	}
	return nil, fmt.Errorf("no workflow %q in this definition (it has %s)%s", name, quoteList(d.Order), suggest(name, d.Order))
}

// Main returns the only or first workflow, or nil when there is none.
func (d *Document) Main() *Workflow {
	if d == nil || len(d.Order) == 0 {
		return nil
	}
	return d.Workflows[d.Order[0]]
}

// Action returns an ad-hoc action of the document, or nil.
func (d *Document) Action(name string) *Action {
	if d == nil {
		return nil
	}
	return d.lookupAction(name)
}

// isExprString reports whether a scalar holds an expression.
func isExprString(s string) bool {
	return strings.Contains(s, "<%") || strings.Contains(s, "{{") || strings.Contains(s, "{%")
}

// secondsPolicy reads a policy in seconds: a non-negative number (0.5
// too) or an expression.
func (l *loader) secondsPolicy(n *yaml.Node, what string) *expr.Value {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!float" {
		if f, ok := scalar(n).(float64); ok && f >= 0 && f < 1e15 {
			return expr.Const(f)
		}
		l.errf(n, "%s must be a number of seconds (0 or more) or an expression, not %s", what, describe(n))
		return nil
	}
	return l.intPolicy(n, what)
}

// intPolicy reads a policy that must be a non-negative whole number or an expression.
func (l *loader) intPolicy(n *yaml.Node, what string) *expr.Value {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!int" {
			v := scalar(n)
			if i, ok := v.(int64); ok && i >= 0 {
				return expr.Const(i)
			}
		}
		if n.Tag == "!!str" && isExprString(n.Value) {
			return l.compile(n)
		}
		if n.Tag == "!!float" {
			if f, ok := scalar(n).(float64); ok && f >= 0 && f == math.Trunc(f) && f < 1e15 {
				return expr.Const(int64(f))
			}
		}
	}
	l.errf(n, "%s must be a whole number (0 or more) or an expression, not %s", what, describe(n))
	return nil
}

// boolPolicy reads a policy that must be true/false or an expression.
func (l *loader) boolPolicy(n *yaml.Node, what string) *expr.Value {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!bool" {
			return expr.Const(scalar(n))
		}
		if n.Tag == "!!str" && isExprString(n.Value) {
			return l.compile(n)
		}
	}
	l.errf(n, "%s must be true, false or an expression, not %s", what, describe(n))
	return nil
}

// condPolicy reads a condition: an expression, or a constant boolean.
func (l *loader) condPolicy(n *yaml.Node, what string) *expr.Value {
	return l.boolPolicy(n, what)
}

// describe names a node's value for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return strconv.Quote(v)
	}
	return "this value"
}
