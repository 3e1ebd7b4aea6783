package dsl

import (
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/lazyflow/lazyflow/core/value"
)

// specView is a definition as Mistral's expression functions show it
// (task(name).spec, execution().spec): the mapping as written plus what
// Mistral's spec adds. It is built on first use, as few workflows read it.
type specView struct {
	once sync.Once
	node *yaml.Node
	m    map[string]any
}

// build converts the node once and lets add complete the map.
func (s *specView) build(add func(m map[string]any)) map[string]any {
	s.once.Do(func() {
		// A fresh loader: the document was loaded, so its aliases expand
		// within the bound Load enforced.
		var m map[string]any
		if d, ok := (&loader{}).plain(s.node).(*value.Map); ok {
			m = d.GoMap()
		} else {
			m = map[string]any{}
		}
		add(m)
		s.m, s.node = m, nil
	})
	return s.m
}

// Spec is the task's definition as Mistral's task(name).spec shows it
// (description, tags, action, transitions... as written, with its name, its
// workflow's type and the language version). The map is shared: callers must
// not change it.
func (t *Task) Spec() map[string]any {
	if t.spec == nil {
		return map[string]any{"name": t.Name}
	}
	return t.spec.build(func(m map[string]any) {
		m["name"], m["type"], m["version"] = t.Name, t.specType, "2.0"
	})
}

// Spec is the workflow's definition as Mistral's execution().spec shows it:
// as written, with its name, the language version and each task's Spec. The
// map is shared: callers must not change it.
func (wf *Workflow) Spec() map[string]any {
	if wf.spec == nil {
		return map[string]any{"name": wf.Name}
	}
	return wf.spec.build(func(m map[string]any) {
		m["name"], m["version"] = wf.Name, "2.0"
		tasks := make(map[string]any, len(wf.Tasks))
		for name, t := range wf.Tasks {
			tasks[name] = t.Spec()
		}
		m["tasks"] = tasks
	})
}
