package expr

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"

	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"

	"github.com/lazyflow/lazyflow/core/value"
)

// Jinja2's {% set %} assigns a name, or an attribute of a namespace()
// object: {% set ns.count = ns.count + 1 %} is how a loop keeps state.
// gonja's set also writes into any dict or list, which would let a template
// change its workflow's context or make a value contain itself (whose
// printing never ends), so assignments are checked here as Jinja2 checks
// them, and a namespace may not come to contain itself.

// jinjaNamespace is what namespace() makes: the one value set may change.
type jinjaNamespace map[string]any

// namespaceFunc is Jinja2's namespace(**attrs); a dict argument gives the
// initial attributes too.
func namespaceFunc(_ *exec.Evaluator, params *exec.VarArgs) (any, error) {
	ns := jinjaNamespace{}
	if len(params.Args) > 1 {
		return nil, errors.New("namespace() takes at most one positional argument")
	}
	if len(params.Args) == 1 {
		v, err := fromGonja(params.Args[0])
		if err != nil {
			return nil, err
		}
		m, ok := value.AsGoMap(v)
		if !ok {
			return nil, fmt.Errorf("namespace() needs a dict, not %s", plainType(v))
		}
		for k, x := range m {
			ns[k] = x
		}
	}
	for k, v := range params.KwArgs {
		ns[k] = v.Interface()
	}
	return ns, nil
}

// nsSet is a {% set name.attr = … %} that checks name is a namespace.
type nsSet struct {
	*controlStructures.SetControlStructure
	root string
}

func (s *nsSet) Execute(r *exec.Renderer, tag *nodes.ControlStructureBlock) error {
	v, _ := r.Environment.Context.Get(s.root)
	ns, ok := v.(jinjaNamespace)
	if !ok {
		return fmt.Errorf("cannot assign attribute on non-namespace object %s", s.root)
	}
	if err := s.SetControlStructure.Execute(r, tag); err != nil {
		return err
	}
	if containsNamespace(ns, reflect.ValueOf(map[string]any(ns)).Pointer(), 0) {
		return errors.New("a namespace cannot contain itself")
	}
	return nil
}

// containsNamespace reports whether v reaches the namespace at ptr, through
// any list, dict or template value.
func containsNamespace(v any, ptr uintptr, depth int) bool {
	if depth > maxDepth {
		return true
	}
	switch x := v.(type) {
	case *exec.Value:
		return x != nil && containsNamespace(x.Interface(), ptr, depth+1)
	case *exec.Dict:
		for _, p := range x.Pairs {
			if containsNamespace(p.Value, ptr, depth+1) {
				return true
			}
		}
		return false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if _, isNS := v.(jinjaNamespace); isNS && depth > 0 && rv.Pointer() == ptr {
			return true
		}
		for it := rv.MapRange(); it.Next(); {
			if containsNamespace(it.Value().Interface(), ptr, depth+1) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < rv.Len(); i++ {
			if containsNamespace(rv.Index(i).Interface(), ptr, depth+1) {
				return true
			}
		}
	case reflect.Pointer, reflect.Interface:
		if !rv.IsNil() {
			return containsNamespace(rv.Elem().Interface(), ptr, depth+1)
		}
	}
	return false
}

// setParser parses {% set %} with gonja's parser and allows only Jinja2's
// targets: a name, or an attribute of a name (checked to be a namespace
// when it runs).
func setParser(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	base, _ := controlStructures.All.Get("set")
	cs, err := base(p, args)
	if err != nil {
		return nil, err
	}
	set, ok := cs.(*controlStructures.SetControlStructure)
	if !ok {
		return cs, nil
	}
	f := reflect.ValueOf(set).Elem().FieldByName("target")
	target, _ := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(nodes.Expression)
	switch t := target.(type) {
	case *nodes.Name:
		return set, nil
	case *nodes.GetAttribute:
		if n, ok := t.Node.(*nodes.Name); ok && n.Name != nil {
			return &nsSet{SetControlStructure: set, root: n.Name.Val}, nil
		}
	}
	return nil, fmt.Errorf("set can assign only a name or an attribute of a namespace, not %s", target)
}
