package dsl

import (
	"errors"
	"fmt"
	"strings"
)

// lookupWorkflow finds a workflow of the document, nil when there is none.
func (d *Document) lookupWorkflow(name string) *Workflow {
	return lookupPrefixed(d.Workflows, d.Name, name)
}

// lookupPrefixed finds name in m; in a workbook (named workbook) also
// without the workbook prefix, as Mistral writes wb.name.
func lookupPrefixed[T any](m map[string]*T, workbook, name string) *T {
	if v, ok := m[name]; ok {
		return v
	}
	if workbook != "" && strings.HasPrefix(name, workbook+".") {
		return m[strings.TrimPrefix(name, workbook+".")]
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

// lookupAction finds an ad-hoc action of the document, nil when there is none.
func (d *Document) lookupAction(name string) *Action {
	return lookupPrefixed(d.Actions, d.Name, name)
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
	if len(d.Order) == 1 {
		// The one name is already given: a "did you mean" would repeat it.
		return nil, fmt.Errorf("no workflow %q in this definition (it has only %s)", name, quoteList(d.Order))
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
