// Package graph is the drawable model of one loaded workflow: its tasks as
// nodes, its transitions (on-success, on-error, on-complete, on-skip) or a
// reverse workflow's requires as edges, and engine commands (fail, succeed,
// pause) as small terminal nodes. Layout places it in layers (longest-path
// layering, barycentre ordering, polyline edges) and the renderers write the
// same model as SVG, Mermaid or Graphviz dot. Everything is deterministic:
// the same definition gives byte-identical output, so it can be cached and
// compared in tests.
package graph

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lazyflow/lazyflow/core/dsl"
)

// NodeKind says what a node stands for.
type NodeKind string

// Node kinds.
const (
	KindTask    NodeKind = "task"
	KindCommand NodeKind = "command" // fail, succeed or pause: ends a branch (or pauses the execution)
)

// EdgeKind says which clause an edge comes from.
type EdgeKind string

// Edge kinds.
const (
	OnSuccess  EdgeKind = "on-success"
	OnError    EdgeKind = "on-error"
	OnComplete EdgeKind = "on-complete"
	OnSkip     EdgeKind = "on-skip"
	Requires   EdgeKind = "requires" // reverse workflows: the required task runs first
)

// Node is one task or engine command.
type Node struct {
	ID   string // stable and unique in the graph: the task name, or "<task>~<kind>~<command>~<n>"
	Kind NodeKind
	// Name is the task name, or the command (fail, succeed, pause).
	Name string
	// Task is the task a command node belongs to ("" for task nodes).
	Task string
	// Action is the action a task runs, or the expression naming it.
	Action string
	// Workflow is the sub-workflow a task starts ("" when it runs an
	// action, or when the name is an expression known only at run time).
	Workflow string
	// WorkflowExpr holds a sub-workflow named by an expression.
	WorkflowExpr string
	Join         string // "", "all", "one" or the count
	WithItems    bool
	Retry        bool

	Layer, Order int
	X, Y, W, H   float64 // centre and size
}

// Point is a place in the drawing.
type Point struct{ X, Y float64 }

// Edge is one transition or requirement.
type Edge struct {
	From, To  string // node IDs
	Kind      EdgeKind
	Condition string // the transition's condition as written, "" when always taken
	// Back is set on an edge that closes a cycle; layout draws it against
	// the flow.
	Back   bool
	Points []Point // the polyline from From to To, set by Layout
}

// Graph is one workflow's drawable model.
type Graph struct {
	Workflow string
	Type     string // dsl.Direct or dsl.Reverse
	Nodes    []*Node
	Edges    []*Edge
	Width    float64
	Height   float64

	byID map[string]*Node
}

// Node returns the node with id, or nil.
func (g *Graph) Node(id string) *Node { return g.byID[id] }

// FromDocument builds and lays out the graph of the named workflow of doc,
// or of its first workflow when name is "".
func FromDocument(doc *dsl.Document, name string) (*Graph, error) {
	if doc == nil {
		return nil, fmt.Errorf("no document")
	}
	wf := doc.Main()
	if name != "" {
		var err error
		if wf, err = doc.Workflow(name); err != nil {
			return nil, err
		}
	}
	if wf == nil {
		return nil, fmt.Errorf("the definition has no workflow")
	}
	g := Build(wf)
	if name != "" {
		g.Workflow = name
	}
	Layout(g)
	return g, nil
}

// Build makes the graph of wf, in file order, without a layout.
func Build(wf *dsl.Workflow) *Graph {
	g := &Graph{Workflow: wf.Name, Type: wf.Type, byID: map[string]*Node{}}
	if g.Type == "" {
		g.Type = dsl.Direct
	}
	for _, name := range wf.TaskOrder {
		t := wf.Tasks[name]
		if t == nil {
			continue
		}
		g.add(taskNode(t))
	}
	for _, name := range wf.TaskOrder {
		t := wf.Tasks[name]
		if t == nil {
			continue
		}
		if g.Type == dsl.Reverse {
			for _, req := range t.Requires {
				if g.byID[req] != nil {
					g.Edges = append(g.Edges, &Edge{From: req, To: name, Kind: Requires})
				}
			}
			continue
		}
		g.transitions(t, OnSuccess, t.OnSuccess)
		g.transitions(t, OnError, t.OnError)
		g.transitions(t, OnComplete, t.OnComplete)
		g.transitions(t, OnSkip, t.OnSkip)
	}
	return g
}

func taskNode(t *dsl.Task) *Node {
	n := &Node{ID: t.Name, Kind: KindTask, Name: t.Name, WithItems: len(t.WithItems) > 0, Retry: t.Retry != nil}
	switch {
	case t.Workflow != "" && t.NameExpr != nil:
		n.WorkflowExpr = t.Workflow
	case t.Workflow != "":
		n.Workflow = t.Workflow
	default:
		n.Action = t.Action
	}
	switch t.Join {
	case dsl.JoinAll, dsl.JoinOne:
		n.Join = t.Join
	case dsl.JoinCount:
		n.Join = strconv.Itoa(t.JoinN)
	}
	return n
}

func (g *Graph) add(n *Node) {
	g.Nodes = append(g.Nodes, n)
	g.byID[n.ID] = n
}

// transitions adds the edges of one clause. A command gets its own node per
// task and clause, so it sits next to the task that ends there; noop does
// nothing and is not drawn.
func (g *Graph) transitions(t *dsl.Task, kind EdgeKind, ts []dsl.Transition) {
	for i, tr := range ts {
		to := tr.Task
		if tr.Command != "" {
			if tr.Command == dsl.CmdNoop {
				continue
			}
			to = fmt.Sprintf("%s~%s~%s~%d", t.Name, kind, tr.Command, i)
			g.add(&Node{ID: to, Kind: KindCommand, Name: tr.Command, Task: t.Name})
		}
		if g.byID[to] == nil {
			continue
		}
		g.Edges = append(g.Edges, &Edge{From: t.Name, To: to, Kind: kind, Condition: condition(tr)})
	}
}

func condition(tr dsl.Transition) string {
	if tr.Condition == nil {
		return ""
	}
	if s, ok := tr.Condition.Source().(string); ok {
		return strings.TrimSpace(s)
	}
	return fmt.Sprint(tr.Condition.Source())
}

// Caption is the second line the SVG writes under a task's name: its
// detail, marked when the task runs for each item.
func (n *Node) Caption() string {
	if n.WithItems {
		return "with-items · " + n.Detail()
	}
	return n.Detail()
}

// Detail says what a task runs: its action or sub-workflow.
func (n *Node) Detail() string {
	switch {
	case n.Kind == KindCommand:
		return ""
	case n.Workflow != "":
		return "workflow: " + n.Workflow
	case n.WorkflowExpr != "":
		return "workflow: " + n.WorkflowExpr
	default:
		return n.Action
	}
}
