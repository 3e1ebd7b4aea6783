package dsl

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lazyflow/lazyflow/core/expr"
	"github.com/lazyflow/lazyflow/core/value"
)

// taskDefaults holds the parsed task-defaults section, applied to every task
// that does not set the same attribute itself (Mistral's rule: a task's own
// value replaces the default whole, it is never merged field by field).
type taskDefaults struct {
	nodes map[string]*yaml.Node
}

func (l *loader) taskDefaults(wf *Workflow, n *yaml.Node) *taskDefaults {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		l.errf(n, "task-defaults must be a mapping")
		return nil
	}
	d := &taskDefaults{nodes: map[string]*yaml.Node{}}
	ps := l.pairs(n, "task-defaults")
	l.checkKeys(ps, taskDefaultKeys, "task-defaults")
	for _, p := range ps {
		if !contains(taskDefaultKeys, p.k.Value) {
			continue
		}
		if wf.Type == Direct && p.k.Value == "requires" {
			// Mistral's schema allows it in task-defaults; it means nothing there.
			l.warnf(p.k, "requires in task-defaults is ignored: workflow %q is direct", wf.Name)
			continue
		}
		d.nodes[p.k.Value] = p.v
	}
	return d
}

// task reads one task: its attributes with the defaults merged in, then
// what it calls and with what input, then every other attribute in
// taskAttrOrder. It returns nil when the task cannot be read at all.
func (l *loader) task(wf *Workflow, k, n *yaml.Node, defaults *taskDefaults) *Task {
	t := &Task{Name: k.Value, Pos: l.pos(k)}
	n = l.taskMapping(t, k, n)
	if n == nil {
		return nil
	}
	attrs, attrKeys := l.taskKeys(wf, t, n)
	if defaults != nil {
		l.applyTaskDefaults(wf, t, defaults, &attrs, &attrKeys)
	}
	l.taskCall(t, &attrs, &attrKeys)
	for _, a := range taskAttrOrder {
		if v := attrs[a.i]; v != nil {
			l.taskAttr(t, a.key, v)
		}
	}
	l.mergeClausePublish(t)
	// A task inherits defaults that name itself; Mistral drops such self-references.
	t.Requires = removeString(t.Requires, t.Name)
	if defaults != nil {
		dropDefaultSelfTransitions(t, defaults, &attrKeys)
	}
	return t
}

// taskMapping checks the task's name and returns its attributes' mapping
// (an empty one for a task written with nothing after its name), or nil
// when the task is not a mapping or has no name.
func (l *loader) taskMapping(t *Task, k, n *yaml.Node) *yaml.Node {
	if t.Name == "" {
		l.errf(k, "a task has an empty name")
		return nil
	}
	if len(t.Name) > 255 {
		l.errf(k, "task name is longer than 255 characters")
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	}
	if n.Kind != yaml.MappingNode {
		l.errf(n, "task %q must be a mapping of attributes, not %s", t.Name, describe(n))
		return nil
	}
	return n
}

// taskKeys reads the task's own attributes, reporting unknown keys and
// keys of the other workflow type. attrs holds each attribute's value and
// attrKeys the node it was set from.
func (l *loader) taskKeys(wf *Workflow, t *Task, n *yaml.Node) (attrs, attrKeys taskAttrs) {
	what := fmt.Sprintf("task %q", t.Name)
	// Arrays indexed by taskKeys rather than maps: a large workflow reads
	// thousands of tasks, and two small maps each were a good part of it.
	for _, p := range l.pairs(n, what) {
		key := p.k.Value
		switch {
		case !contains(taskKeys, key):
			l.errf(p.k, "unknown key %q in %s%s", key, what, suggest(key, taskKeys))
			continue
		case wf.Type == Reverse && contains(directOnlyTaskKeys, key):
			l.errf(p.k, "%s is only for direct workflows; workflow %q is reverse", key, wf.Name)
			continue
		case wf.Type == Direct && contains(reverseOnlyTaskKeys, key):
			l.errf(p.k, "%s is only for reverse workflows; workflow %q is direct (add type: reverse)", key, wf.Name)
			continue
		}
		attrs.set(key, p.v)
		attrKeys.set(key, p.k)
	}
	return attrs, attrKeys
}

// applyTaskDefaults fills the attributes the task does not set from
// task-defaults. Such an attribute's key node is the default's value node,
// which is how later steps tell an inherited attribute from the task's own.
func (l *loader) applyTaskDefaults(wf *Workflow, t *Task, defaults *taskDefaults, attrs, attrKeys *taskAttrs) {
	for key, v := range defaults.nodes {
		if attrs.get(key) != nil {
			continue
		}
		if wf.Type == Reverse && contains(directOnlyTaskKeys, key) {
			continue
		}
		attrs.set(key, v)
		attrKeys.set(key, v)
	}
	// requires from defaults add to the task's own list (Mistral unions them).
	if dn, ok := defaults.nodes["requires"]; ok && wf.Type == Reverse && attrKeys.get("requires") != dn {
		t.Requires = append(t.Requires, l.stringList(dn, "requires")...)
	}
}

// taskCall reads what the task runs (action or workflow, with inline
// parameters) and its input, into which the inline parameters merge.
func (l *loader) taskCall(t *Task, attrs, attrKeys *taskAttrs) {
	if attrs.get("action") != nil && attrs.get("workflow") != nil {
		l.errf(attrKeys.get("workflow"), "task %q has both action and workflow: a task runs one or the other", t.Name)
	}
	var inline *value.Map // in the order written, as Mistral's parser reads them
	var inlineNode *yaml.Node
	switch {
	case attrs.get("action") != nil:
		t.Action, inline = l.callee(t, attrs.get("action"), "action")
		inlineNode = attrs.get("action")
	case attrs.get("workflow") != nil:
		t.Workflow, inline = l.callee(t, attrs.get("workflow"), "workflow")
		inlineNode = attrs.get("workflow")
	default:
		// Mistral runs std.noop for a task with neither action nor workflow.
		t.Action = "std.noop"
	}
	in := attrs.get("input")
	if in != nil {
		t.Input = l.taskInput(t, in, inline)
	}
	if t.Input == nil && inline.Len() > 0 {
		t.Input = l.compileValue(inlineNode, inline)
	}
	if t.Input == nil && (inline.Len() > 0 || in != nil && in.Tag != "!!null") {
		l.markBroken(t) // its error is reported; a "missing input" would be false
	}
}

// taskInput reads input: a mapping, one expression, or Mistral's string of
// inline parameters, into which the inline parameters of the callee merge;
// nil when there is no input or it has an error.
func (l *loader) taskInput(t *Task, in *yaml.Node, inline *value.Map) *expr.Value {
	switch {
	case in.Kind == yaml.MappingNode:
		m, _ := l.plain(in).(*value.Map)
		return l.compileValue(in, withInline(m, inline))
	case in.Kind == yaml.ScalarNode && in.Tag == "!!str" && isExprString(in.Value):
		if inline.Len() > 0 {
			l.errf(in, "task %q gives input both inline and as an expression; use one", t.Name)
		}
		return l.compile(in)
	case in.Kind == yaml.ScalarNode && in.Tag == "!!str":
		// Mistral's string input: inline parameters (error_data={x: 1}).
		params, err := parseParams(in.Value)
		if err != nil {
			l.errf(in, "input of task %q: %v", t.Name, err)
			return nil
		}
		return l.compileValue(in, withInline(params, inline))
	case in.Kind == yaml.ScalarNode && in.Tag == "!!null":
		return nil
	default:
		l.errf(in, "input of task %q must be a mapping of names to values or an expression, not %s", t.Name, describe(in))
		return nil
	}
}

// withInline merges the inline parameters into input as Mistral 23.0.0's
// TaskSpec does (merge_dicts(input, inline)): an inline parameter wins over
// the input clause's value of the same name, which keeps its place.
func withInline(input *value.Map, inline *value.Map) *value.Map {
	if input == nil {
		input = value.NewMap(inline.Len())
	}
	return mergeDicts(input, inline)
}

// mergeDicts merges right into left, which it changes and returns, as
// mistral_lib's merge_dicts (the merge of Mistral's specs): left's keys keep
// their places, right's value wins, two dicts under one name merge the same
// way, right's other keys go last.
func mergeDicts(left, right *value.Map) *value.Map {
	for key, v := range right.All() {
		if l, ok := left.Get(key); ok {
			lm, lok := l.(*value.Map)
			rm, rok := v.(*value.Map)
			if lok && rok {
				v = mergeDicts(lm.Clone(), rm)
			}
		}
		left.Set(key, v)
	}
	return left
}

// taskAttr reads one attribute other than action, workflow and input.
func (l *loader) taskAttr(t *Task, key string, v *yaml.Node) {
	switch key {
	case "description":
		t.Description = v.Value
	case "tags":
		t.Tags = l.stringList(v, "tags")
	case "publish", "publish-on-error", "publish-on-skip":
		l.taskPublish(t, key, v)
	case "with-items":
		t.WithItems = l.withItems(v)
	case "on-success", "on-error", "on-complete", "on-skip":
		l.taskTransitions(t, key, v)
	case "join":
		t.joinPos = l.pos(v)
		l.join(t, v)
	case "requires":
		t.requiresPos = l.pos(v)
		for _, r := range l.stringList(v, "requires") {
			if r != t.Name && !contains(t.Requires, r) {
				t.Requires = append(t.Requires, r)
			}
		}
	default:
		l.taskPolicy(t, key, v)
	}
}

// taskPublish reads publish, publish-on-error or publish-on-skip.
func (l *loader) taskPublish(t *Task, key string, v *yaml.Node) {
	switch key {
	case "publish":
		t.Publish = l.taskPublishMap(v, key, t.Name, "on-success")
	case "publish-on-error":
		t.PublishOnError = l.taskPublishMap(v, key, t.Name, "on-error")
	case "publish-on-skip":
		t.PublishOnSkip = l.taskPublishMap(v, key, t.Name, "")
	}
}

// taskTransitions reads an on-clause. The publish of its advanced form is
// kept for mergeClausePublish.
func (l *loader) taskTransitions(t *Task, key string, v *yaml.Node) {
	switch key {
	case "on-success":
		t.OnSuccess, t.clausePub[onSuccessPub] = l.transitions(v, key, t.Name)
	case "on-error":
		t.OnError, t.clausePub[onErrorPub] = l.transitions(v, key, t.Name)
	case "on-complete":
		t.OnComplete, t.clausePub[onCompletePub] = l.transitions(v, key, t.Name)
	case "on-skip":
		t.OnSkip, _ = l.transitions(v, key, t.Name)
	}
}

// taskPolicy reads a policy attribute: retry, timeouts and waits,
// concurrency, pause-before, keep-result, safe-rerun, fail-on, target.
func (l *loader) taskPolicy(t *Task, key string, v *yaml.Node) {
	switch key {
	case "concurrency":
		t.Concurrency = l.intPolicy(v, "concurrency")
	case "retry":
		t.Retry = l.retry(v)
	case "timeout":
		t.Timeout = l.wholeSecondsPolicy(v, "timeout")
	case "wait-before":
		t.WaitBefore = l.wholeSecondsPolicy(v, "wait-before")
	case "wait-after":
		t.WaitAfter = l.wholeSecondsPolicy(v, "wait-after")
	case "pause-before":
		t.PauseBefore = l.boolPolicy(v, "pause-before")
	case "keep-result":
		t.KeepResult = l.boolPolicy(v, "keep-result")
	case "safe-rerun":
		sr := l.boolPolicy(v, "safe-rerun")
		if sr != nil && sr.IsConst() {
			t.SafeRerun, _ = sr.Source().(bool)
		} else {
			t.SafeRerunExpr = sr
		}
	case "fail-on":
		t.FailOn = l.condPolicy(v, "fail-on")
	case "target":
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			l.errf(v, "target must be text or an expression, not %s", describe(v))
			return
		}
		t.Target = l.compile(v)
	}
}

// dropDefaultSelfTransitions removes, from the on-clauses the task
// inherits from task-defaults, the transitions to the task itself, as
// Mistral does.
func dropDefaultSelfTransitions(t *Task, defaults *taskDefaults, attrKeys *taskAttrs) {
	for key, list := range map[string]*[]Transition{"on-success": &t.OnSuccess, "on-error": &t.OnError, "on-complete": &t.OnComplete, "on-skip": &t.OnSkip} {
		if dn, ok := defaults.nodes[key]; ok && attrKeys.get(key) == dn {
			*list = dropSelf(*list, t.Name)
		}
	}
}

// taskAttrOrder is the order task attributes are read in, with each one's
// index in taskAttrs, so reading them costs no lookups.
var taskAttrOrder = func() []struct {
	key string
	i   int
} {
	keys := []string{"description", "tags", "publish", "publish-on-error", "publish-on-skip",
		"with-items", "concurrency", "retry", "timeout", "wait-before", "wait-after", "pause-before",
		"keep-result", "safe-rerun", "target", "fail-on", "on-success", "on-error", "on-complete", "on-skip",
		"join", "requires"}
	out := make([]struct {
		key string
		i   int
	}, len(keys))
	for n, k := range keys {
		out[n].key, out[n].i = k, taskKeyIndex[k]
	}
	return out
}()

// taskAttrs holds one node per key of taskKeys.
type taskAttrs [len(taskKeyList)]*yaml.Node

// taskKeyIndex maps each of taskKeys to its index.
var taskKeyIndex = func() map[string]int {
	m := make(map[string]int, len(taskKeys))
	for i, k := range taskKeys {
		m[k] = i
	}
	return m
}()

// get returns the node of key, nil when unset; key must be one of taskKeys
// for set, and may be anything for get.
func (a *taskAttrs) get(key string) *yaml.Node {
	if i, ok := taskKeyIndex[key]; ok {
		return a[i]
	}
	return nil
}

func (a *taskAttrs) set(key string, n *yaml.Node) { a[taskKeyIndex[key]] = n }

// callee reads action: or workflow:, a name with optional inline
// parameters, or one expression that names the callee at run time.
func (l *loader) callee(t *Task, n *yaml.Node, what string) (string, *value.Map) {
	raw := strings.TrimSpace(l.str(n, what))
	if isExprString(raw) && (strings.HasPrefix(raw, "<%") || strings.HasPrefix(raw, "{{")) {
		// Mistral 23.0.0: an expression naming the callee may be followed
		// by inline parameters (`<% $.action %> output=<% $.x %>`).
		if head, rest, ok := leadingExpr(raw); ok && rest != "" {
			if params, err := parseParams(rest); err == nil {
				if c := l.compileValue(n, head); c != nil {
					t.NameExpr = c
					return head, params
				}
			}
		}
		c := l.compile(n)
		if c != nil && len(c.Expressions()) == 1 {
			t.NameExpr = c
			return raw, nil
		}
	}
	name, params, unread, err := splitCall(raw, true)
	if err != nil {
		l.errf(n, "%v", err)
		l.markBroken(t)
	}
	for _, p := range unread {
		// Lazyflow reads the value as written; Mistral 23.0.0 skips it (or
		// reads 1 of 1.5): the same workflow would not run the same there.
		k, v, _ := strings.Cut(p, "=")
		l.warnf(n, "task %q: %s", t.Name, unreadInline(p, k, v))
	}
	if name == "" {
		l.errf(n, "%s of task %q is empty", what, t.Name)
	}
	return name, params
}

// unreadInline says that Mistral 23.0.0 does not read the inline
// parameter p (k=v) as Lazyflow does, and how to write it for both.
func unreadInline(p, k, v string) string {
	what := "ignores it"
	if d := leadingDigits(v); d != "" {
		what = "reads it as " + k + "=" + d
	}
	return fmt.Sprintf("inline parameter %s: Mistral 23.0 %s (an inline value there is quoted text, an expression, "+
		"a [list], digits, true, false or null); write %s='%s' or give it under input: to run the same on both", p, what, k, v)
}

// markBroken records that t's input had an error already reported.
func (l *loader) markBroken(t *Task) {
	if l.broken == nil {
		l.broken = map[*Task]bool{}
	}
	l.broken[t] = true
}

func dropSelf(list []Transition, name string) []Transition {
	var out []Transition
	for _, tr := range list {
		if tr.Task != name {
			out = append(out, tr)
		}
	}
	return out
}

func removeString(list []string, s string) []string {
	out := list[:0]
	for _, e := range list {
		if e != s {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// join reads join: all, one, or a number of incoming tasks.
func (l *loader) join(t *Task, v *yaml.Node) {
	if v.Kind == yaml.ScalarNode {
		switch {
		case v.Tag == "!!str" && v.Value == JoinAll:
			t.Join = JoinAll
			return
		case v.Tag == "!!str" && v.Value == JoinOne:
			t.Join = JoinOne
			return
		case v.Tag == "!!int":
			if i, ok := scalar(v).(int64); ok && i > 0 && i < 1<<20 {
				t.Join, t.JoinN = JoinCount, int(i)
				return
			}
		}
	}
	l.errf(v, "join must be all, one or a number of tasks (1 or more), not %s", describe(v))
}

var withItemsRe = regexp.MustCompile(`(?s)^\s*([\w-]+)\s+in\s+(.+?)\s*$`)

// withItems reads with-items: one "x in <list>" clause or a list of them,
// each list an expression or a [list] written inline.
func (l *loader) withItems(v *yaml.Node) []WithItem {
	var entries []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		entries = []*yaml.Node{v}
	case yaml.SequenceNode:
		entries = v.Content
	default:
		l.errf(v, "with-items must be \"x in <%% $.list %%>\" or a list of such clauses")
		return nil
	}
	var out []WithItem
	seen := map[string]bool{}
	for _, e := range entries {
		e = l.deref(e)
		if e == nil || e.Kind != yaml.ScalarNode || e.Tag != "!!str" {
			l.errf(e, "each with-items clause must be text like \"x in <%% $.list %%>\"")
			continue
		}
		m := withItemsRe.FindStringSubmatch(e.Value)
		if m == nil {
			l.errf(e, "with-items clause %q must read \"name in <%% list expression %%>\" or \"name in [1, 2]\"", e.Value)
			continue
		}
		name, list := m[1], m[2]
		if seen[name] {
			l.errf(e, "with-items uses %q twice", name)
			continue
		}
		seen[name] = true
		var c *expr.Value
		switch {
		case strings.HasPrefix(list, "["):
			var items []any
			var ln yaml.Node
			if err := yaml.Unmarshal([]byte(list), &ln); err != nil || len(ln.Content) == 0 || ln.Content[0].Kind != yaml.SequenceNode {
				l.errf(e, "with-items list %s is not a valid list", list)
				continue
			}
			items, _ = l.plain(ln.Content[0]).([]any)
			if items == nil {
				items = []any{}
			}
			c = l.compileValue(e, items)
		case isExprString(list):
			var err error
			c, err = l.exprs.Compile(list)
			if err != nil {
				l.exprErrors(e, err)
				continue
			}
			if c.IsConst() {
				l.errf(e, "with-items list %q must be an expression or a [list]", list)
				continue
			}
		default:
			l.errf(e, "with-items list %q must be an expression like <%% $.items %%> or a [list]", list)
			continue
		}
		if c != nil {
			out = append(out, WithItem{Var: name, List: c})
		}
	}
	return out
}
