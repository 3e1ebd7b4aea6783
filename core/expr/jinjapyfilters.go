package expr

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/tokens"

	"github.com/lazyflow/lazyflow/core/value"
)

// Jinja2's filters run Python on their input, so an input of the wrong type
// fails there (an int is not iterable, a list has no splitlines, an empty
// sequence has no first item) where gonja's return an empty value; and the
// filters that compare, add or look up attributes do it as Python does.
// pyFilterFixes wrap or replace gonja's filter of the same name.
var pyFilterFixes = map[string]func(exec.FilterFunction) exec.FilterFunction{
	"abs":            replaced(absFilter),
	"attr":           replaced(attrFilter),
	"first":          replaced(firstFilter),
	"last":           replaced(lastFilter),
	"length":         replaced(lengthFilter),
	"count":          replaced(lengthFilter),
	"sum":            replaced(sumFilter),
	"max":            replaced(minMaxFilter(">")),
	"min":            replaced(minMaxFilter("<")),
	"sort":           replaced(sortFilter),
	"select":         replaced(selectFilter(false, false)),
	"reject":         replaced(selectFilter(true, false)),
	"selectattr":     replaced(selectFilter(false, true)),
	"rejectattr":     replaced(selectFilter(true, true)),
	"filesizeformat": replaced(filesizeFilter),
	"pprint":         replaced(pprintFilter),
	"urlencode":      replaced(urlencodeFilter),
	"truncate":       truncateGate,
	"indent":         gate(isString, func(v *exec.Value) error { return noSplitlines(v, true) }),
	"wordwrap":       gate(isString, func(v *exec.Value) error { return noSplitlines(v, false) }),
	"dictsort":       replaced(dictsortFilter),
	"int":            intGate,
	"float":          floatGate,
	"xmlattr":        replaced(xmlattrFilter),
	"items":          replaced(itemsFilter),
	"batch":          iterableGate,
	"join":           replaced(joinFilter),
	"list":           iterableGate,
	"map":            mapGate,
	"slice":          iterableGate,
	"unique":         iterableGate,
	"groupby":        groupbyGate,
}

func replaced(f exec.FilterFunction) func(exec.FilterFunction) exec.FilterFunction {
	return func(exec.FilterFunction) exec.FilterFunction { return f }
}

// bindArgs binds a filter's arguments to its Python parameter names; an
// unknown keyword or one positional argument too many is an error.
func bindArgs(filter string, params *exec.VarArgs, names ...string) (map[string]*exec.Value, error) {
	out := map[string]*exec.Value{}
	if params == nil {
		return out, nil
	}
	if len(params.Args) > len(names) {
		return nil, fmt.Errorf("%s takes at most %d arguments (%d given)", filter, len(names), len(params.Args))
	}
	for i, a := range params.Args {
		out[names[i]] = a
	}
	for k, v := range params.KwArgs {
		if !slices.Contains(names, k) {
			return nil, fmt.Errorf("%s got an unexpected keyword argument '%s'", filter, k)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s got multiple values for argument '%s'", filter, k)
		}
		out[k] = v
	}
	return out, nil
}

func argTrue(args map[string]*exec.Value, name string) bool {
	v, ok := args[name]
	return ok && v.IsTrue()
}

// pyItems is what Python's iter() gives for a template value: the code
// points of a string, a list's items, a dict's keys.
func pyItems(in *exec.Value) ([]any, error) {
	if in.IsError() {
		return nil, unwrapGonja(in)
	}
	if d, ok := in.Interface().(*exec.Dict); ok {
		// Only the keys, as plain() makes them (a dict literal may hold an
		// Undefined value), of their own type: {1: 2}|list is [1].
		keys := make([]any, 0, len(d.Pairs))
		seen := make(map[string]bool, len(d.Pairs))
		for _, p := range d.Pairs {
			k, err := fromGonja(p.Key)
			if err != nil {
				return nil, err
			}
			if id := pyKeyID(k); !seen[id] {
				seen[id] = true
				keys = append(keys, k)
			}
		}
		return keys, nil
	}
	v, err := fromGonja(in)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case string:
		out := make([]any, 0, len(x))
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	case []any:
		return x, nil
	case *value.Map:
		return anyKeys(x), nil
	case map[string]any:
		keys := sortedKeys(x)
		out := make([]any, len(keys))
		for i, k := range keys {
			out[i] = k
		}
		return out, nil
	}
	return nil, fmt.Errorf("'%s' object is not iterable", plainType(v))
}

// itemsAndArgs are a filter's input as Python iterates it and its bound
// arguments.
func itemsAndArgs(filter string, in *exec.Value, params *exec.VarArgs, names ...string) ([]any, map[string]*exec.Value, error) {
	items, err := pyItems(in)
	if err != nil {
		return nil, nil, err
	}
	args, err := bindArgs(filter, params, names...)
	return items, args, err
}

func iterableGate(f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		items, err := pyItems(in)
		if err != nil {
			return errValue(err)
		}
		if in.IsDict() {
			// gonja's filters would see the dict; Python iterates its keys.
			in = exec.AsValue(items)
		}
		return f(e, in, params)
	}
}

// groupbyGate also refuses an item without the grouping attribute when no
// default is given: Jinja2 cannot sort its undefined key.
func groupbyGate(f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		args, err := bindArgs("groupby", params, "attribute", "default", "case_sensitive")
		if err != nil {
			return errValue(err)
		}
		if err := needAttr(in, args["attribute"], args["default"]); err != nil {
			return errValue(err)
		}
		return f(e, in, params)
	}
}

// needAttr fails unless in is iterable and, when an attribute and no
// default are given, every item has the attribute.
func needAttr(in, attr, def *exec.Value) error {
	items, err := pyItems(in)
	if err != nil || attr == nil || def != nil {
		return err
	}
	parts := attrParts(attr)
	for _, it := range items {
		if _, err := lookupAttr(it, parts); err != nil {
			return err
		}
	}
	return nil
}

// mapGate refuses map(attribute=…) over an item without the attribute
// (and no default): Jinja2 yields StrictUndefined there, which fails as
// soon as it is printed or stored.
func mapGate(f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		var attr, def *exec.Value
		if params != nil {
			attr, def = params.KwArgs["attribute"], params.KwArgs["default"]
		}
		if falsy(in) {
			return exec.AsValue([]any{})
		}
		if err := needAttr(in, attr, def); err != nil {
			return errValue(err)
		}
		return f(e, in, params)
	}
}

// falsy is a filter input Jinja2's map, select and their kin skip without
// iterating (they start with "if value:"), so {{ None|map('abs')|list }} is [].
func falsy(in *exec.Value) bool {
	if in.IsError() {
		return false
	}
	v, err := fromGonja(in)
	return err == nil && !truthy(v)
}

// gate passes to f only the inputs accept takes; refuse says how Python
// fails on the others.
func gate(accept func(*exec.Value) bool, refuse func(*exec.Value) error) func(exec.FilterFunction) exec.FilterFunction {
	return func(f exec.FilterFunction) exec.FilterFunction {
		return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
			if !in.IsError() && !accept(in) {
				return errValue(refuse(in))
			}
			return f(e, in, params)
		}
	}
}

func isString(v *exec.Value) bool { return v.IsString() }

func noItems(v *exec.Value) error {
	return fmt.Errorf("'%s' object has no attribute 'items'", pyType(v))
}

// noSplitlines is how indent (which first appends "\n") and wordwrap fail
// on a value that is not a string.
func noSplitlines(v *exec.Value, appendsNewline bool) error {
	if appendsNewline && !v.IsList() {
		return fmt.Errorf("unsupported operand type(s) for +=: '%s' and 'str'", pyType(v))
	}
	return fmt.Errorf("'%s' object has no attribute 'splitlines'", pyType(v))
}

// truncateGate: Jinja2's truncate returns a list or dict no longer than
// length + leeway unchanged, cannot slice a longer one, and needs len().
func truncateGate(f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return in
		}
		args, err := bindArgs("truncate", params, "length", "killwords", "end", "leeway")
		if err != nil {
			return errValue(err)
		}
		length, leeway, end := int64(255), int64(5), "..."
		if v, ok := args["length"]; ok {
			length, _, _, _ = pyNum(v)
		}
		if v, ok := args["leeway"]; ok && !v.IsNil() {
			leeway, _, _, _ = pyNum(v)
		}
		if v, ok := args["end"]; ok {
			end = v.String()
		}
		if n := int64(utf8.RuneCountInString(end)); length < n {
			return errValue(fmt.Errorf("expected length >= %d, got %d", n, length))
		}
		if leeway < 0 {
			return errValue(fmt.Errorf("expected leeway >= 0, got %d", leeway))
		}
		if in.IsString() {
			return f(e, in, params)
		}
		if !in.IsList() && !in.IsDict() {
			return errValue(fmt.Errorf("object of type '%s' has no len()", pyType(in)))
		}
		if int64(in.Len()) <= length+leeway {
			return in
		}
		if in.IsDict() {
			return errValue(errors.New("unhashable type: 'slice'"))
		}
		return errValue(errors.New(`can only concatenate list (not "str") to list`))
	}
}

// intGate is Jinja2's int of what gonja's gets wrong: int(True) is 1 (gonja
// gives 0), and a float, or text only a float reads, truncates exactly, so
// one past int64 is a big integer (gonja saturates), infinity is Python's
// OverflowError and NaN the default.
func intGate(f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		if in.IsBool() {
			return exec.AsValue(boolAsInt(in.Bool()))
		}
		params = sanitizeBase(params)
		x, ok := 0.0, false
		switch {
		case in.IsFloat():
			x, ok = in.Float(), true
		case in.IsString() && (params == nil || len(params.Args)+len(params.KwArgs) == 0):
			x, ok = floatText(in.String())
		}
		switch {
		case !ok || (x >= math.MinInt64 && x < math.MaxInt64):
			return f(e, in, params)
		case math.IsNaN(x):
			return f(e, exec.AsValue(nil), params) // the default
		case math.IsInf(x, 0):
			return errValue(errors.New("cannot convert float infinity to integer"))
		}
		b, _ := big.NewFloat(x).Int(nil)
		return exec.AsValue(b)
	}
}

// sanitizeBase replaces a base Python's int() refuses (not 0 or 2 to 36)
// with 10: Jinja2's int catches that ValueError and reads the text as a
// float, or gives the default, which is what base 10 does ("abc"|int(base=99)
// is 0, "12"|int(base=1) is 12). gonja panics on such a base.
func sanitizeBase(params *exec.VarArgs) *exec.VarArgs {
	if params == nil {
		return nil
	}
	valid := func(v *exec.Value) bool {
		if v == nil || !v.IsInteger() {
			return true // gonja reports a base of the wrong type itself
		}
		b := v.Integer()
		return b == 0 || (b >= 2 && b <= 36)
	}
	kw := params.KwArgs["base"]
	var pos *exec.Value
	if len(params.Args) > 1 {
		pos = params.Args[1]
	}
	if valid(kw) && valid(pos) {
		return params
	}
	out := &exec.VarArgs{Args: append([]*exec.Value(nil), params.Args...), KwArgs: make(map[string]*exec.Value, len(params.KwArgs))}
	for k, v := range params.KwArgs {
		out.KwArgs[k] = v
	}
	if !valid(kw) {
		out.KwArgs["base"] = exec.AsValue(10)
	}
	if !valid(pos) {
		out.Args[1] = exec.AsValue(10)
	}
	return out
}

// floatGate is Jinja2's float of what gonja's gets wrong: float(True) is
// 1.0 (gonja gives 0.0), text is read after stripping its spaces, and an
// integer too large for a float is Python's OverflowError, which float
// does not catch.
func floatGate(f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		switch {
		case in.IsBool() && in.Bool():
			return exec.AsValue(1.0)
		case in.IsBool():
			return exec.AsValue(0.0)
		case isBig(in):
			x, ok := value.BigFloat(in.Interface().(*big.Int))
			if !ok {
				return errValue(errIntToFloat)
			}
			return exec.AsValue(x)
		case in.IsString():
			s := strings.TrimSpace(in.String())
			if x, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64); err == nil && !strings.ContainsAny(s, "xXpP") && !math.IsInf(x, 0) && !math.IsNaN(x) {
				return exec.AsValue(x)
			}
		}
		return f(e, in, params)
	}
}

// floatText is the float Python's float() reads from text that int() does
// not read (a decimal point or an exponent).
func floatText(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, ".eE") || strings.HasPrefix(strings.TrimLeft(s, "+-"), "0x") {
		return 0, false
	}
	x, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	return x, err == nil
}

// dictPairs are a dict's [key, value] pairs in its order.
func dictPairs(in *exec.Value) ([]any, error) {
	if in.IsError() {
		return nil, unwrapGonja(in)
	}
	v, err := fromGonja(in)
	if err != nil {
		return nil, err
	}
	d, ok := value.AsMap(v)
	if !ok {
		return nil, noItems(in)
	}
	pairs := make([]any, 0, d.Len())
	for k, e := range d.All() {
		pairs = append(pairs, []any{k, e})
	}
	return pairs, nil
}

func itemsFilter(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if !in.IsError() && !in.IsDict() {
		return errValue(errors.New("can only get item pairs from a mapping"))
	}
	pairs, err := dictPairs(in)
	if err != nil {
		return errValue(err)
	}
	return exec.AsValue(pairs)
}

// dictsortFilter is Jinja2's dictsort(value, case_sensitive=False,
// by='key', reverse=False): the pairs sorted by key or value as sort does.
func dictsortFilter(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	args, err := bindArgs("dictsort", params, "case_sensitive", "by", "reverse")
	if err != nil {
		return errValue(err)
	}
	pairs, err := dictPairs(in)
	if err != nil {
		return errValue(err)
	}
	pos := "0"
	if by, ok := args["by"]; ok {
		switch by.String() {
		case "key":
		case "value":
			pos = "1"
		default:
			return errValue(errors.New("you can only sort by either 'key' or 'value'"))
		}
	}
	sortArgs := &exec.VarArgs{KwArgs: map[string]*exec.Value{"attribute": exec.AsValue(pos)}}
	for _, k := range []string{"case_sensitive", "reverse"} {
		if v, ok := args[k]; ok {
			sortArgs.KwArgs[k] = v
		}
	}
	return sortFilter(e, exec.AsValue(pairs), sortArgs)
}

func absFilter(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if _, f, isFloat, ok := pyNum(in); isFloat {
		return exec.AsValue(math.Abs(f))
	} else if !ok && !isBig(in) {
		return errValue(fmt.Errorf("bad operand type for abs(): '%s'", pyType(in)))
	}
	i, _ := pyInt(in)
	r, err := jinjaInt(new(big.Int).Abs(i))
	if err != nil {
		return errValue(err)
	}
	return exec.AsValue(r)
}

// attrFilter is Jinja2's attr(name): Python's getattr, never an item, so
// on data it is always undefined (data has only methods as attributes).
func attrFilter(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	args, err := bindArgs("attr", params, "name")
	if err != nil {
		return errValue(err)
	}
	name, ok := args["name"]
	if !ok {
		return errValue(errors.New("attr needs the attribute's name"))
	}
	v, err := fromGonja(in)
	if err != nil {
		return errValue(err)
	}
	return errValue(undefinedAttr(v, name.String()))
}

func firstFilter(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	items, err := pyItems(in)
	if err != nil {
		return errValue(err)
	}
	if len(items) == 0 {
		return errValue(errors.New("no first item, sequence was empty"))
	}
	return exec.AsValue(items[0])
}

func lastFilter(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if !in.IsError() && !in.IsString() && !in.IsList() && !in.IsDict() {
		return errValue(fmt.Errorf("'%s' object is not reversible", pyType(in)))
	}
	items, err := pyItems(in)
	if err != nil {
		return errValue(err)
	}
	if len(items) == 0 {
		return errValue(errors.New("no last item, sequence was empty"))
	}
	return exec.AsValue(items[len(items)-1])
}

func lengthFilter(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	switch {
	case in.IsError():
		return in
	case in.IsString():
		return exec.AsValue(utf8.RuneCountInString(in.String()))
	case in.IsList() || in.IsDict():
		return exec.AsValue(in.Len())
	}
	return errValue(fmt.Errorf("object of type '%s' has no len()", pyType(in)))
}

// joinFilter is Jinja2's join(d, attribute=None), d empty by default: str(d).join(map(str,
// items)), so an item that is a dict or a list reads as Python writes it
// ({'y': None}, not gonja's text).
func joinFilter(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	items, args, err := itemsAndArgs("join", in, params, "d", "attribute")
	if err != nil {
		return errValue(err)
	}
	sep := ""
	if d, ok := args["d"]; ok {
		if sep, err = strOf(d); err != nil {
			return errValue(err)
		}
	}
	parts := make([]string, len(items))
	for i, item := range items {
		if attr, ok := args["attribute"]; ok && !attr.IsNil() {
			if item, err = lookupAttr(item, attrParts(attr)); err != nil {
				return errValue(err)
			}
		}
		parts[i] = pyStr(item)
	}
	return exec.AsValue(strings.Join(parts, sep))
}

// strOf is Python's str() of a template value.
func strOf(v *exec.Value) (string, error) {
	if v.IsString() {
		return v.String(), nil
	}
	p, err := fromGonja(v)
	if err != nil {
		return "", err
	}
	return pyStr(p), nil
}

// attrParts is a Jinja2 attribute path: dot-separated, digit parts are
// indexes.
func attrParts(attr *exec.Value) []any {
	if attr.IsInteger() {
		return []any{int64(attr.Integer())}
	}
	var parts []any
	for _, p := range strings.Split(attr.String(), ".") {
		if n, err := strconv.ParseInt(p, 10, 64); err == nil {
			parts = append(parts, n)
		} else {
			parts = append(parts, p)
		}
	}
	return parts
}

// lookupAttr is Jinja2's environment.getitem along a path; a missing part
// is the StrictUndefined error Jinja2 raises when the value is used.
func lookupAttr(v any, parts []any) (any, error) {
	for _, p := range parts {
		next, ok := any(nil), false
		switch x := v.(type) {
		case *value.Map:
			if k, isStr := p.(string); isStr {
				next, ok = x.Get(k)
			}
		case map[string]any:
			if k, isStr := p.(string); isStr {
				next, ok = x[k]
			}
		case []any:
			// groupby's groups are Python's (grouper, list) named tuples.
			if g, isStr := p.(string); isStr && len(x) == 2 && (g == "grouper" || g == "list") {
				next, ok = x[0], true
				if g == "list" {
					next = x[1]
				}
			}
			if i, isInt := p.(int64); isInt {
				if i < 0 {
					i += int64(len(x))
				}
				if i >= 0 && i < int64(len(x)) {
					next, ok = x[i], true
				}
			}
		case string:
			if i, isInt := p.(int64); isInt {
				rs := []rune(x)
				if i < 0 {
					i += int64(len(rs))
				}
				if i >= 0 && i < int64(len(rs)) {
					next, ok = string(rs[i]), true
				}
			}
		}
		if !ok {
			return nil, undefinedAttr(v, p)
		}
		v = next
	}
	return v, nil
}

// undefinedAttr is Jinja2's message for a missing attribute or element.
func undefinedAttr(obj, name any) error {
	what := plainType(obj) + " object"
	if obj == nil {
		what = "None"
	}
	if s, ok := name.(string); ok {
		return fmt.Errorf("'%s' has no attribute '%s'", what, s)
	}
	return fmt.Errorf("%s has no element %v", what, name)
}

// sortKey is Jinja2's attribute getter with ignore_case: the item, or its
// attributes (comma-separated, compared as a tuple), lowercased when they
// are strings and the comparison is not case-sensitive.
func sortKey(item any, attr *exec.Value, multi, caseSensitive bool) (any, error) {
	fold := func(v any) any {
		if s, ok := v.(string); ok && !caseSensitive {
			return value.Lower(s)
		}
		return v
	}
	if multi && (attr == nil || attr.IsNil() || !attr.IsString()) {
		// Jinja2's sort keys are lists even for one attribute, and a list
		// compares its items with == before <: {{ [None, None]|sort }} works.
		k, err := sortKey(item, attr, false, caseSensitive)
		return []any{k}, err
	}
	if attr == nil || attr.IsNil() {
		return fold(item), nil
	}
	if !multi || !attr.IsString() {
		v, err := lookupAttr(item, attrParts(attr))
		return fold(v), err
	}
	var keys []any
	for _, a := range strings.Split(attr.String(), ",") {
		v, err := lookupAttr(item, attrParts(exec.AsValue(a)))
		if err != nil {
			return nil, err
		}
		keys = append(keys, fold(v))
	}
	return keys, nil
}

func sortFilter(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	items, args, err := itemsAndArgs("sort", in, params, "reverse", "case_sensitive", "attribute")
	if err != nil {
		return errValue(err)
	}
	keys := make([]any, len(items))
	for i, it := range items {
		if keys[i], err = sortKey(it, args["attribute"], true, argTrue(args, "case_sensitive")); err != nil {
			return errValue(err)
		}
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	reverse := argTrue(args, "reverse")
	var cmpErr error
	// Python's sort asks only "<", and reverse keeps equal items in order.
	slices.SortStableFunc(idx, func(a, b int) int {
		x, y := keys[a], keys[b]
		if reverse {
			x, y = y, x
		}
		less, err := pyCompare("<", x, y)
		if err != nil && cmpErr == nil {
			cmpErr = err
		}
		if less {
			return -1
		}
		if greater, _ := pyCompare("<", y, x); greater {
			return 1
		}
		return 0
	})
	if cmpErr != nil {
		return errValue(cmpErr)
	}
	out := make([]any, len(idx))
	for i, j := range idx {
		out[i] = items[j]
	}
	return exec.AsValue(out)
}

// minMaxFilter is Jinja2's max (sym ">") or min ("<"): the first item whose
// key no later item beats, as Python's max and min pick.
func minMaxFilter(sym string) exec.FilterFunction {
	return func(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		items, args, err := itemsAndArgs("max/min", in, params, "case_sensitive", "attribute")
		if err != nil {
			return errValue(err)
		}
		if len(items) == 0 {
			return errValue(errors.New("no aggregated item, sequence was empty"))
		}
		best := 0
		var bestKey any
		for i, it := range items {
			k, err := sortKey(it, args["attribute"], false, argTrue(args, "case_sensitive"))
			if err != nil {
				return errValue(err)
			}
			if i > 0 {
				better, err := pyCompare(sym, k, bestKey)
				if err != nil {
					return errValue(err)
				}
				if !better {
					continue
				}
			}
			best, bestKey = i, k
		}
		return exec.AsValue(items[best])
	}
}

// sumFilter is Jinja2's sum(iterable, attribute=None, start=0): Python's
// + from start over the items (or their attribute).
func sumFilter(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	items, args, err := itemsAndArgs("sum", in, params, "attribute", "start")
	if err != nil {
		return errValue(err)
	}
	acc := exec.AsValue(0)
	if s, ok := args["start"]; ok {
		acc = s
	}
	if acc.IsString() {
		return errValue(errors.New("sum() can't sum strings [use ''.join(seq) instead]"))
	}
	for _, it := range items {
		if a, ok := args["attribute"]; ok && !a.IsNil() {
			if it, err = lookupAttr(it, attrParts(a)); err != nil {
				return errValue(err)
			}
		}
		x := exec.AsValue(it)
		if acc.IsList() && x.IsList() {
			l, _ := fromGonja(acc)
			acc = exec.AsValue(append(slices.Clone(l.([]any)), it.([]any)...))
			continue
		}
		r, ok := pyArith(tokens.Addition, acc, x)
		if !ok {
			return errValue(fmt.Errorf("unsupported operand type(s) for +: '%s' and '%s'", pyType(acc), pyType(x)))
		}
		if r.IsError() {
			return r
		}
		acc = r
	}
	return acc
}

// selectFilter is Jinja2's select, reject, selectattr and rejectattr: a
// test (or truth) of each item or its attribute, whose errors propagate.
func selectFilter(reject, byAttr bool) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		if falsy(in) {
			return exec.AsValue([]any{})
		}
		items, err := pyItems(in)
		if err != nil {
			return errValue(err)
		}
		var args []*exec.Value
		kwargs := map[string]*exec.Value{}
		if params != nil {
			args, kwargs = params.Args, params.KwArgs
		}
		var parts []any
		if byAttr {
			if len(args) == 0 {
				return errValue(errors.New("selectattr and rejectattr need an attribute"))
			}
			parts, args = attrParts(args[0]), args[1:]
		}
		test := ""
		if len(args) > 0 {
			test, args = args[0].String(), args[1:]
		}
		out := []any{}
		for _, it := range items {
			subject := exec.AsValue(it)
			if byAttr {
				v, err := lookupAttr(it, parts)
				if err != nil && test != "defined" && test != "undefined" && test != "none" {
					return errValue(err)
				}
				subject = exec.AsValue(v)
				if err != nil {
					subject = errValue(err)
				}
			}
			var pass bool
			if test == "" {
				v, _ := fromGonja(subject)
				pass = truthy(v)
			} else {
				r := e.ExecuteTestByName(test, subject, &exec.VarArgs{Args: args, KwArgs: kwargs})
				if r.IsError() {
					return r
				}
				pass = r.IsTrue()
			}
			if pass != reject {
				out = append(out, it)
			}
		}
		return exec.AsValue(out)
	}
}

// filesizeFilter is Jinja2's filesizeformat(value, binary=False).
func filesizeFilter(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	args, err := bindArgs("filesizeformat", params, "binary")
	if err != nil {
		return errValue(err)
	}
	bytes, err := pyFloat(in)
	if err != nil {
		return errValue(err)
	}
	base := 1000.0
	prefixes := []string{"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"}
	if argTrue(args, "binary") {
		base = 1024
		prefixes = []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"}
	}
	switch {
	case bytes == 1:
		return exec.AsValue("1 Byte")
	case bytes < base:
		return exec.AsValue(fmt.Sprintf("%d Bytes", int64(bytes)))
	}
	unit, prefix := 0.0, ""
	for i, p := range prefixes {
		unit, prefix = math.Pow(base, float64(i+2)), p
		if bytes < unit {
			break
		}
	}
	return exec.AsValue(strconv.FormatFloat(base*bytes/unit, 'f', 1, 64) + " " + prefix)
}

// pyFloat is Python's float() of a number or numeric text.
func pyFloat(in *exec.Value) (float64, error) {
	if in.IsError() {
		return 0, unwrapGonja(in)
	}
	if b, ok := in.Interface().(*big.Int); ok {
		if f, ok := value.BigFloat(b); ok {
			return f, nil
		}
		return 0, errIntToFloat
	}
	if i, f, isFloat, ok := pyNum(in); ok {
		if isFloat {
			return f, nil
		}
		return float64(i), nil
	}
	if in.IsString() {
		f, err := strconv.ParseFloat(strings.TrimSpace(in.String()), 64)
		if err != nil {
			return 0, fmt.Errorf("could not convert string to float: %s", value.PyQuote(in.String()))
		}
		return f, nil
	}
	return 0, fmt.Errorf("float() argument must be a string or a real number, not '%s'", pyType(in))
}
