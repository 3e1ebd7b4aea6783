package dsl

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/lazyflow/lazyflow/core/value"
)

// loadRoot reads a parsed document: a workbook (name, workflows, actions)
// or a file of workflows and ad-hoc actions at the top level. It reads the
// ad-hoc actions and version first, then the workflows in file order, then
// checks the calls between them.
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
	workbook := isWorkbook(ps)
	versionSeen := false
	var wfPairs []pair
	for _, p := range ps {
		switch {
		case p.k.Value == "version":
			versionSeen = true
			l.version(doc, p.v)
		case workbook:
			wfPairs = append(wfPairs, l.workbookEntry(doc, p)...)
		default:
			wfPairs = append(wfPairs, l.topLevelEntry(doc, p)...)
		}
	}
	if !versionSeen {
		l.errf(top, "missing version: add version: '2.0' at the top of the file")
	}
	l.workflows(doc, wfPairs)
	if len(doc.Workflows) == 0 && len(doc.Actions) == 0 && len(l.errs) == 0 {
		l.errf(top, "no workflow found: add a workflow name with a tasks mapping")
	}
	l.crossChecks(doc)
	return doc
}

// isWorkbook reports whether the document's keys make it a workbook: it
// has workflows or actions sections, or a name that is text (a workflow
// called "name" would be a mapping).
func isWorkbook(ps []pair) bool {
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
	return workbook
}

// version checks the document's version: Mistral's v2 language, however
// it is spelled.
func (l *loader) version(doc *Document, v *yaml.Node) {
	if v.Kind != yaml.ScalarNode || (v.Value != "2.0" && v.Value != "2" && v.Value != "v2.0") {
		l.errf(v, "unsupported version %q: only version '2.0' of the Mistral language is supported", v.Value)
	}
	doc.Version = "2.0"
}

// workbookEntry reads a workbook key other than version. It reads the
// ad-hoc actions into doc and returns the workflows' entries, which are
// read once every action is known.
func (l *loader) workbookEntry(doc *Document, p pair) []pair {
	switch p.k.Value {
	case "name":
		doc.Name = l.str(p.v, "workbook name")
		if p.v.Kind == yaml.ScalarNode && p.v.Tag != "!!null" {
			l.checkName(p.v, "workbook", doc.Name)
		}
	case "description", "tags":
	case "workflows":
		if p.v.Kind != yaml.MappingNode {
			l.errf(p.v, "workflows must be a mapping of workflow names to workflows")
			return nil
		}
		return l.pairs(p.v, "workflows")
	case "actions":
		if p.v.Kind != yaml.MappingNode {
			l.errf(p.v, "actions must be a mapping of action names to actions")
			return nil
		}
		for _, ap := range l.pairs(p.v, "actions") {
			l.addAction(doc, ap.k, ap.v)
		}
	default:
		l.errf(p.k, "unknown key %q in the workbook%s", p.k.Value, suggest(p.k.Value, workbookKeys))
	}
	return nil
}

// topLevelEntry reads a key, other than version, of a file that is not a
// workbook: a description, tags, an ad-hoc action (a mapping with base and
// no tasks, as in a file for mistral action-create) or a workflow, whose
// entry it returns.
func (l *loader) topLevelEntry(doc *Document, p pair) []pair {
	switch {
	case p.k.Value == "description" && p.v.Kind == yaml.ScalarNode:
	case p.k.Value == "tags" && p.v.Kind == yaml.SequenceNode:
	case p.v.Kind != yaml.MappingNode:
		l.errf(p.k, "%q is not a workflow: a workflow must be a mapping with tasks%s", p.k.Value, suggest(p.k.Value, []string{"version", "description", "tags"}))
	case hasKey(p.v, "base") && !hasKey(p.v, "tasks"):
		l.addAction(doc, p.k, p.v)
	default:
		return []pair{p}
	}
	return nil
}

// addAction reads an ad-hoc action into doc.
func (l *loader) addAction(doc *Document, k, n *yaml.Node) {
	if a := l.action(k, n); a != nil {
		doc.Actions[a.Name] = a
	}
}

// workflows reads the workflows into doc, in file order.
func (l *loader) workflows(doc *Document, wfPairs []pair) {
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
}

// action reads an ad-hoc action: its base (with inline parameters), the
// base-input merged over them, its input and output.
func (l *loader) action(k, n *yaml.Node) *Action {
	a := &Action{Name: k.Value, Pos: l.pos(k)}
	l.checkName(k, "action", a.Name)
	if n.Kind != yaml.MappingNode {
		l.errf(n, "action %q must be a mapping with base", a.Name)
		return nil
	}
	ps := l.pairs(n, "action "+a.Name)
	l.checkKeys(ps, actionKeys, fmt.Sprintf("action %q", a.Name))
	var baseInput *value.Map
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
			if params.Len() > 0 {
				baseInput = params
				baseInputNode = p.v
			}
		case "base-input":
			if p.v.Kind != yaml.MappingNode {
				l.errf(p.v, "base-input must be a mapping of parameter names to values")
				continue
			}
			m, _ := l.plain(p.v).(*value.Map)
			if baseInput == nil {
				baseInput = value.NewMap(m.Len())
			}
			baseInput.Update(m)
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

// workflow reads one workflow and its tasks, then checks the graph the
// tasks make. It returns the workflow, with what could be read, even when
// its tasks are missing or not a mapping.
func (l *loader) workflow(k, n *yaml.Node) *Workflow {
	wf := &Workflow{Name: k.Value, Pos: l.pos(k), Type: Direct, Tasks: map[string]*Task{}, Inbound: map[string][]string{},
		spec: &specView{node: n}}
	l.checkName(k, "workflow", wf.Name)
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
			l.warnBareExprs(p.v, fmt.Sprintf("output of workflow %q: key", wf.Name))
			wf.Output = l.compile(p.v)
		case "output-on-error":
			l.warnBareExprs(p.v, fmt.Sprintf("output-on-error of workflow %q: key", wf.Name))
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
		t.spec, t.specType = &specView{node: p.v}, wf.Type
		wf.Tasks[t.Name] = t
		wf.TaskOrder = append(wf.TaskOrder, t.Name)
		taskNodes[t.Name] = p.k
	}
	l.graph(wf, taskNodes)
	return wf
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
