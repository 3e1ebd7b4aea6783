package expr

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// Jinja2 tells two kinds of failure apart where gonja has one error value:
// a lookup that finds nothing (a missing key or index, an empty sequence's
// first, last, min or max, a missing attr) is Undefined, a value kept until
// it is used, while anything else (an operator, a call, most filters, a
// slice, a lookup on an Undefined) raises where it is evaluated. A list
// literal and a test are where the difference shows: Jinja2 builds the
// whole list, so {{ [None ** 3]|length }} fails while {{ [None[0]]|length }}
// is 1, and {{ _.n[3] is defined }} is false while {{ _.d[3][0] is number }}
// fails. The compiled template therefore evaluates both through functions
// that see the failed value and the kind of expression that made it.

// An expression's undefined kind says which failure of it is Undefined:
const (
	undefNone   = ""       // every failure raises
	undefItem   = "item"   // a subscript's own lookup
	undefAttr   = "attr"   // an attribute's own lookup (x.name)
	undefFilter = "filter" // first, last, min or max of an empty sequence, a missing attr
	undefSlice  = "slice"  // a slice of a constant that cannot be sliced
	undefCond   = "cond:"  // a conditional's: its own, then its branches' kind
)

// undefinedKind reports whether e may raise, and which of its failures
// are Undefined. A missing name is Undefined, and default passes an
// undefined default on.
func undefinedKind(e nodes.Expression) (mayRaise bool, kind string) {
	switch x := e.(type) {
	case *nodes.GetAttribute:
		return true, undefAttr
	case *nodes.Call:
		if isName(x.Func, itemName) {
			return true, undefItem
		}
		if isName(x.Func, condName) && len(x.Args) == 2 {
			if k, ok := x.Args[1].(*nodes.String); ok {
				return true, k.Val
			}
		}
		return true, undefNone
	case *nodes.GetSlice:
		// Jinja2 compiles a slice to Python's subscript, which raises, but
		// its optimizer folds a slice of a constant with getitem, which
		// gives Undefined ({{ None[1:] is defined }} is false).
		if constant(x.Node) {
			return true, undefSlice
		}
		return true, undefNone
	case *nodes.Dict, *nodes.TestExpression:
		// gonja fails a dict literal on any failed value; a test's own
		// failure raises.
		return true, undefNone
	case *nodes.FilteredExpression:
		if len(x.Filters) == 0 {
			return undefinedKind(x.Expression)
		}
		switch last := x.Filters[len(x.Filters)-1].Name; {
		case last == "default" || last == "d":
			return false, undefNone
		case undefinedFilterNames[last]:
			return true, undefFilter
		}
		return true, undefNone
	}
	return false, undefNone
}

// constant reports an expression Jinja2's optimizer folds: literals, and
// lists, dicts and operators of them (if the operator fails, Jinja2 does not
// fold it, but then the slice's target fails, which raises anyway).
func constant(n nodes.Node) bool {
	switch x := n.(type) {
	case *nodes.Integer, *nodes.Float, *nodes.String, *nodes.Bool, *nodes.None:
		return true
	case *nodes.Name:
		return x.Name != nil && constantNames[x.Name.Val]
	case *nodes.List:
		return allConstant(x.Val)
	case *nodes.Tuple:
		return allConstant(x.Val)
	case *nodes.Dict:
		for _, p := range x.Pairs {
			if !constant(p.Key) || !constant(p.Value) {
				return false
			}
		}
		return true
	case *nodes.Call:
		name, ok := x.Func.(*nodes.Name)
		return ok && name.Name != nil && operatorNames[name.Name.Val] && allConstant(x.Args)
	}
	return false
}

func allConstant(es []nodes.Expression) bool {
	for _, e := range es {
		if !constant(e) {
			return false
		}
	}
	return true
}

var constantNames = map[string]bool{"None": true, "none": true, "True": true, "true": true, "False": true, "false": true}

// operatorNames are the functions Jinja's operators compile to.
var operatorNames = func() map[string]bool {
	m := map[string]bool{notName: true, negName: true, posName: true}
	for _, names := range []map[tokens.Type]string{binopNames, compareNames} {
		for _, n := range names {
			m[n] = true
		}
	}
	return m
}()

var undefinedFilterNames = map[string]bool{"first": true, "last": true, "min": true, "max": true, "attr": true}

// The texts of the failures that are Undefined. gonja flattens a function's
// or a filter's error into text, so the text is what tells them apart.
var (
	undefinedItemPrefix = "invalid call to function '" + itemName + "': "
	// gonja's text for an attribute whose target failed; the target's
	// failure raises (Jinja2 raises for an attribute of an Undefined).
	undefinedAttrTargetPrefix = "Unable to evaluate target "
	// gonja's text for a value that cannot be sliced.
	undefinedSlicePrefix = "can not slice "
	undefinedFilterText  = regexp.MustCompile(`: invalid call to filter '(?:(?:first|last|min|max)': no (?:first|last|aggregated) item, sequence was empty|attr': '[^']*' has no attribute '[^']*')$`)
)

// failed reports a value Jinja2 raises where it is made: a failure that is
// not Undefined for the expression's kind.
func failed(v *exec.Value, kind string) bool {
	if !v.IsError() {
		return false
	}
	if strings.HasPrefix(kind, undefCond) {
		return condFailed(v, kind)
	}
	switch kind {
	case undefItem:
		return !strings.HasPrefix(v.Error(), undefinedItemPrefix)
	case undefFilter:
		return !undefinedFilterText.MatchString(v.Error())
	case undefAttr:
		return strings.HasPrefix(v.Error(), undefinedAttrTargetPrefix)
	case undefSlice:
		return !strings.HasPrefix(v.Error(), undefinedSlicePrefix)
	}
	return true
}

// listName is what a list literal with an item that may raise compiles to:
// __lf_list(the list, then each such item's position and undefined kind).
const listName = "__lf_list"

func listCall(l *nodes.List) *nodes.Call {
	args := []nodes.Expression{l}
	for i, item := range l.Val {
		if mayRaise, kind := undefinedKind(item); mayRaise {
			at := &tokens.Token{Type: tokens.Integer, Val: strconv.Itoa(i)}
			args = append(args, &nodes.Integer{Location: at, Val: i}, kindNode(kind, at))
		}
	}
	if len(args) == 1 || l.Location == nil {
		return nil
	}
	return callTo(listName, l.Location, args...)
}

func kindNode(kind string, at *tokens.Token) *nodes.String {
	return &nodes.String{Location: &tokens.Token{Type: tokens.String, Val: kind, Line: at.Line, Col: at.Col, Pos: at.Pos}, Val: kind}
}

// errInternalArgs is the answer to a template that calls one of these
// functions itself.
var errInternalArgs = errors.New("internal: wrong arguments")

// firstRaised is the first of items, at the positions and undefined kinds
// listed in pairs, that Jinja2 raises; nil when none does.
func firstRaised(fn string, items *exec.Value, pairs []*exec.Value) *exec.Value {
	for a := 0; a+1 < len(pairs); a += 2 {
		at := pairs[a].Integer()
		if at < 0 || at >= items.Len() {
			return errValue(fmt.Errorf("%s: %w", fn, errInternalArgs))
		}
		if item := items.Index(at); failed(item, pairs[a+1].String()) {
			return item
		}
	}
	return nil
}

func listFunc(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	if len(params.Args) == 0 || !params.Args[0].IsList() {
		return errValue(fmt.Errorf("%s: %w", listName, errInternalArgs))
	}
	list := params.Args[0]
	if raised := firstRaised(listName, list, params.Args[1:]); raised != nil {
		return raised
	}
	return list
}

// testName is the function a test compiles to when its operand may raise:
// __lf_test([operand], its undefined kind, the test's name, its arguments).
// The operand goes in a list, which keeps a failed value, so that testFunc
// sees it; an Undefined one is handed to the test, as Jinja2 does.
const testName = "__lf_test"

func testCall(t *nodes.TestExpression) *nodes.Call {
	if c := attrTestCall(t); c != nil {
		return c
	}
	mayRaise, kind := undefinedKind(t.Expression)
	if t.Test == nil || !mayRaise {
		return nil
	}
	name := &nodes.String{Location: t.Test.Token, Val: t.Test.Name}
	operand := &nodes.List{Location: t.Test.Token, Val: []nodes.Expression{t.Expression}}
	call := callTo(testName, t.Test.Token, append([]nodes.Expression{operand, kindNode(kind, t.Test.Token), name}, t.Test.Args...)...)
	call.Kwargs = t.Test.Kwargs
	return call
}

func testFunc(e *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	if len(params.Args) < 3 || !params.Args[2].IsString() || !oneItem(params.Args[0]) {
		return errValue(fmt.Errorf("%s: %w", testName, errInternalArgs))
	}
	operand := params.Args[0].Index(0)
	if failed(operand, params.Args[1].String()) {
		return operand
	}
	args := &exec.VarArgs{Args: params.Args[3:], KwArgs: params.KwArgs}
	return e.ExecuteTestByName(params.Args[2].String(), operand, args)
}

// undefName is what the input of a default filter compiles to:
// __lf_undef([input], may it raise, its undefined kind). Jinja2's default
// replaces only an Undefined; what raises raises before default runs
// ({{ (1 // 0)|default(5) }} fails), while gonja hands default every
// failure. undefFunc passes a value or a raised failure on and turns an
// Undefined into jinjaUndefined, which only default receives.
const undefName = "__lf_undef"

// jinjaUndefined is an Undefined on its way into default. It is not an
// error, so that gonja calls the filter with it.
type jinjaUndefined struct{}

// guardDefault rewrites the input of a filter chain that starts with
// default; splitAtDefault has made the last default of a chain the start
// of one.
func guardDefault(f *nodes.FilteredExpression) {
	if len(f.Filters) == 0 || (f.Filters[0].Name != "default" && f.Filters[0].Name != "d") || f.Filters[0].Token == nil {
		return
	}
	at := f.Filters[0].Token
	mayRaise, kind := undefinedKind(f.Expression)
	raise := &nodes.Bool{Location: at, Val: mayRaise}
	in := &nodes.List{Location: at, Val: []nodes.Expression{f.Expression}}
	f.Expression = callTo(undefName, at, in, raise, kindNode(kind, at))
}

func undefFunc(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	if len(params.Args) != 3 || !oneItem(params.Args[0]) {
		return errValue(fmt.Errorf("%s: %w", undefName, errInternalArgs))
	}
	in := params.Args[0].Index(0)
	if !in.IsError() || (params.Args[1].IsTrue() && failed(in, params.Args[2].String())) {
		return in
	}
	return exec.AsValue(jinjaUndefined{})
}

// oneItem reports the one-item list an operand is passed in.
func oneItem(v *exec.Value) bool { return v.IsList() && v.Len() == 1 }

// dictLitName is what a dict literal that is not a constant compiles to:
// Jinja2's dict keeps an Undefined value until it is used
// ({{ {'a': None[0]}|list }} is ['a']), while gonja fails the dict on any
// failed value. __lf_dictlit([k1, v1, k2, v2…], then the position and
// undefined kind of each key or value that may raise; a key always does,
// since StrictUndefined cannot be hashed).
const dictLitName = "__lf_dictlit"

func dictLitCall(d *nodes.Dict) *nodes.Call {
	if d.Token == nil || constant(d) && textKeys(d) {
		return nil
	}
	items := &nodes.List{Location: d.Token}
	args := []nodes.Expression{items}
	for _, p := range d.Pairs {
		for j, e := range []nodes.Expression{p.Key, p.Value} {
			at := &tokens.Token{Type: tokens.Integer, Val: strconv.Itoa(len(items.Val)), Line: d.Token.Line, Col: d.Token.Col, Pos: d.Token.Pos}
			mayRaise, kind := undefinedKind(e)
			if j == 0 {
				mayRaise, kind = true, undefNone
			}
			if mayRaise {
				args = append(args, &nodes.Integer{Location: at, Val: len(items.Val)}, kindNode(kind, at))
			}
			items.Val = append(items.Val, e)
		}
	}
	return callTo(dictLitName, d.Token, args...)
}

// textKeys reports a dict literal whose keys are all strings: gonja's own
// dict keeps those apart as Python does, while numbers and booleans need
// dictLitFunc even when constant ({1: 2, 1.0: 3} is one key).
func textKeys(d *nodes.Dict) bool {
	for _, p := range d.Pairs {
		if _, ok := p.Key.(*nodes.String); !ok {
			return false
		}
	}
	return true
}

func dictLitFunc(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	if len(params.Args) == 0 || !params.Args[0].IsList() || params.Args[0].Len()%2 != 0 {
		return errValue(fmt.Errorf("%s: %w", dictLitName, errInternalArgs))
	}
	items := params.Args[0]
	if raised := firstRaised(dictLitName, items, params.Args[1:]); raised != nil {
		return raised
	}
	// A repeated key keeps its first place and takes the last value, as in
	// Python.
	d := &exec.Dict{Pairs: make([]*exec.Pair, 0, items.Len()/2)}
	at := make(map[string]int, items.Len()/2)
	for i := 0; i < items.Len(); i += 2 {
		k, v := items.Index(i), items.Index(i+1)
		key, err := fromGonja(k)
		if err != nil {
			return errValue(err)
		}
		ks := pyKeyID(key)
		if j, seen := at[ks]; seen {
			d.Pairs[j].Value = v
			continue
		}
		at[ks] = len(d.Pairs)
		d.Pairs = append(d.Pairs, &exec.Pair{Key: k, Value: v})
	}
	return exec.AsValue(d)
}

// pyKeyID tells dict keys apart as Python's dict does: equal numbers are one
// key (1, 1.0 and True), a number and its text are two (1 and '1').
func pyKeyID(k any) string {
	switch x := k.(type) {
	case string:
		return "s" + x
	case bool:
		if x {
			return "n1"
		}
		return "n0"
	case int64:
		return "n" + strconv.FormatInt(x, 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return "n" + strconv.FormatInt(int64(x), 10)
		}
		return "f" + strconv.FormatFloat(x, 'g', -1, 64)
	case *big.Int:
		return "n" + x.String()
	}
	return "o" + toString(k)
}
