package expr

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"

	"github.com/lazyflow/lazyflow/core/value"

	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
)

// Limits bound the cost of evaluating one Jinja string. gonja has no step
// counter of its own, so the sandbox counts "steps" at every point a template
// can loop or build data: each for-loop iteration, each filter, each host or
// global function call and each +, ~ or * (which are rewritten into guarded
// calls at compile time). The clock is checked at every step too.
//
// What else the sandbox removes: include/import/extends/from/block (file
// access), call (macros are allowed, their recursion bounded by
// maxMacroDepth), the mutating methods append,
// update, setdefault, pop and clear (they can build self-referencing data
// whose printing never ends; set is checked for that in jinjaset.go),
// format_map, and the random filter (evaluation must be deterministic because the
// engine may recompute a step).
type Limits struct {
	MaxSource int           // longest expression string accepted at compile time, bytes
	MaxOutput int           // largest rendered text or built string/list, bytes or items
	MaxSteps  int           // steps per evaluation
	Timeout   time.Duration // wall-clock time per evaluation
}

// DefaultLimits are the limits used by Eval.
var DefaultLimits = Limits{
	MaxSource: 64 << 10,
	MaxOutput: 1 << 20,
	MaxSteps:  100_000,
	Timeout:   time.Second,
}

// ErrLimit is wrapped by every error caused by a sandbox limit.
var ErrLimit = errors.New("expression exceeded a sandbox limit")

// budget is the per-evaluation cost account, stored in the gonja context.
type budget struct {
	steps    int
	depth    int // macro calls in progress
	deadline time.Time
	limits   Limits
}

func (b *budget) tick() error {
	b.steps++
	if b.steps > b.limits.MaxSteps {
		return fmt.Errorf("%w: more than %d steps", ErrLimit, b.limits.MaxSteps)
	}
	// Reading the clock every step would dominate cheap loops; every 64 is enough.
	if b.steps&63 == 0 && time.Now().After(b.deadline) {
		return fmt.Errorf("%w: took longer than %s", ErrLimit, b.limits.Timeout)
	}
	return nil
}

func (b *budget) size(n int) error {
	if n > b.limits.MaxOutput {
		return fmt.Errorf("%w: result of %d bytes/items is larger than %d", ErrLimit, n, b.limits.MaxOutput)
	}
	return nil
}

const (
	budgetKey = "__lf_budget"
	funcsKey  = "__lf_funcs"
	tickName  = "__lf_tick"
	rootID    = "expression"
)

var (
	jinjaConfig = func() *config.Config {
		c := config.New()
		// Mistral's environment: StrictUndefined, trim_blocks, lstrip_blocks.
		c.StrictUndefined = true
		c.TrimBlocks = true
		// gonja's lstrip_blocks also strips spaces between "}}" and "{%" on
		// one line, which Jinja2 keeps; lstripBlocks below does it right.
		c.LeftStripBlocks = false
		return c
	}()
	jinjaEnv = newJinjaEnv()
)

// mistralFuncs are the names Mistral registers as both Jinja globals and
// filters; the filter form passes the piped value as the first argument.
var mistralFuncs = []string{
	"env", "execution", "executions", "global", "json_dump", "json_parse", "json_pp",
	"task", "tasks", "uuid", "yaml_dump", "yaml_parse",
}

func newJinjaEnv() *exec.Environment {
	// Mistral's environment loads no extensions: no do, break or continue.
	allowed := []string{"autoescape", "filter", "for", "if", "macro", "raw", "set", "with"}
	csMap := map[string]parser.ControlStructureParser{}
	for _, name := range allowed {
		if p, ok := controlStructures.All.Get(name); ok {
			csMap[name] = p
		}
	}
	csMap["set"] = setParser
	controls := exec.NewControlStructureSet(csMap)

	filters := exec.NewFilterSet(map[string]exec.FilterFunction{})
	sizeArgFilters := map[string]bool{"batch": true, "center": true, "indent": true, "slice": true, "truncate": true, "wordwrap": true}
	for _, name := range builtinFilterNames {
		f, ok := builtins.Filters.Get(name)
		if !ok {
			continue
		}
		if textFilters[name] {
			f = onText(f)
		}
		if name == "unique" {
			f = hashableItems(f)
		}
		if charFilters[name] {
			f = onChars(f)
		}
		if fix, ok := pyFilterFixes[name]; ok {
			f = fix(f)
		}
		_ = filters.Register(name, guardFilter(f, sizeArgFilters[name]))
	}
	for _, name := range mistralFuncs {
		_ = filters.Register(name, funcFilter(name))
	}
	// gonja's reverse sorts and its format is Go's; Jinja's are Python's.
	_ = filters.Replace("reverse", guardFilter(reverseFilter, false))
	_ = filters.Replace("format", guardFilter(formatFilter, false))
	_ = filters.Replace("upper", guardFilter(caseFilter(value.Upper), false))
	_ = filters.Replace("lower", guardFilter(caseFilter(value.Lower), false))
	_ = filters.Replace("round", guardFilter(roundFilter, false))
	_ = filters.Replace("title", guardFilter(onText(titleFilter), false))
	_ = filters.Replace("capitalize", guardFilter(onText(capitalizeFilter), false))
	_ = filters.Replace("wordcount", guardFilter(onText(wordcountFilter), false))
	_ = filters.Replace("tojson", guardFilter(tojsonFilter, false))
	_ = filters.Replace("default", defaultFilter)
	_ = filters.Replace("d", defaultFilter)
	markupFilters(filters)

	strFixes := map[string]exec.Method[string]{}
	for _, m := range []map[string]exec.Method[string]{strMethodFixes, strPadMethods, strCaseMethods} {
		maps.Copy(strFixes, m)
	}
	methods := exec.Methods{
		Bool:  builtins.Methods.Bool,
		Int:   builtins.Methods.Int,
		Float: builtins.Methods.Float,
		Str:   withMethods(pickMethods(builtins.Methods.Str, "format_map"), strFixes),
		Dict:  withMethods(pickMethods(builtins.Methods.Dict, "update", "setdefault", "pop", "clear"), dictMethodFixes),
		List:  withMethods(pickMethods(builtins.Methods.List, "append", "reverse"), listMethods),
	}

	globals := map[string]any{
		"range":     rangeFunc,
		tickName:    tickFunc,
		"__lf_add":  binopFunc(tokens.Addition, "+"),
		"__lf_mul":  binopFunc(tokens.Multiply, "*"),
		"__lf_mod":  binopFunc(tokens.Modulo, "%"),
		"__lf_cat":  binopFunc(tokens.Tilde, "~"),
		"__lf_sub":  binopFunc(tokens.Subtraction, "-"),
		"__lf_div":  binopFunc(tokens.Division, "/"),
		"__lf_fdiv": binopFunc(tokens.FloorDivision, "//"),
		"__lf_pow":  binopFunc(tokens.Power, "**"),
		strName:     strFunc,
		"namespace": namespaceFunc,
		"lipsum":    lipsumFunc,
		notName:     notFunc,
		condName:    condFunc,
		negName:     unaryFunc(true),
		posName:     unaryFunc(false),
		testName:    testFunc,
		iterName:    iterFunc,
		enterName:   macroEnter,
		leaveName:   macroLeave,
		itemName:    itemFunc,
		listName:    listFunc,
		bigIntName:  bigIntFunc,
		noAttrName:  noAttrFunc,
		undefName:   undefFunc,
		tupleName:   tupleFunc,
		dictLitName: dictLitFunc,
		dictName:    dictFunc,
		// Jinja's null literal, which gonja lacks.
		"none": nil,
		"None": nil,
	}
	for op, name := range compareNames {
		globals[name] = compareFunc(compareOps[op])
	}
	globals["cycler"] = cyclerFunc
	globals[attrTestName] = attrTestFunc
	for _, name := range []string{"dict", "joiner"} {
		if f, ok := builtins.GlobalFunctions.Get(name); ok {
			globals[name] = f
		}
	}
	for _, name := range mistralFuncs {
		globals[name] = globalFunc(name)
	}

	return &exec.Environment{
		Context:           exec.NewContext(globals),
		Filters:           filters,
		Tests:             jinjaTests(),
		ControlStructures: controls,
		Methods:           methods,
	}
}

var builtinFilterNames = []string{
	"abs", "attr", "batch", "capitalize", "center", "default", "d", "dictsort", "e", "escape",
	"filesizeformat", "first", "float", "forceescape", "format", "groupby", "indent", "int",
	"join", "items", "last", "length", "count", "list", "lower", "map", "max", "min", "pprint",
	"rejectattr", "reject", "replace", "reverse", "round", "safe", "selectattr", "select",
	"slice", "sort", "string", "striptags", "sum", "title", "tojson", "trim", "truncate",
	"unique", "upper", "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr",
}

// pickMethods copies a method set without the named methods.
func pickMethods[I any](set *exec.MethodSet[I], drop ...string) *exec.MethodSet[I] {
	out := map[string]exec.Method[I]{}
	for _, name := range allMethodNames {
		if contains(drop, name) {
			continue
		}
		if m, ok := set.Get(name); ok {
			out[name] = m
		}
	}
	return exec.NewMethodSet(out)
}

// withMethods is set with fixes replacing or adding methods.
func withMethods[I any](set *exec.MethodSet[I], fixes map[string]exec.Method[I]) *exec.MethodSet[I] {
	out := map[string]exec.Method[I]{}
	for _, name := range allMethodNames {
		if m, ok := set.Get(name); ok {
			out[name] = m
		}
	}
	for name, m := range fixes {
		out[name] = m
	}
	return exec.NewMethodSet(out)
}

// allMethodNames covers every method name gonja v2.9.1 defines on any type;
// MethodSet has no way to list its names.
var allMethodNames = []string{
	"capitalize", "capwords", "casefold", "center", "count", "encode", "endswith", "expandtabs",
	"find", "format", "format_map", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit",
	"islower", "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join", "ljust",
	"lower", "lstrip", "partition", "removeprefix", "removesuffix", "replace", "rfind", "rjust",
	"rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase",
	"title", "upper", "zfill", "keys", "values", "items", "get", "pop", "setdefault", "update",
	"copy", "clear", "append", "reverse", "is_integer", "bit_length", "conjugate",
	"as_integer_ratio", "hex", "fromhex", "real", "imag", "numerator", "denominator",
	"index", "sort", "extend", "insert", "remove",
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func budgetOf(e *exec.Evaluator) *budget {
	if e == nil || e.Environment == nil || e.Environment.Context == nil {
		return nil
	}
	v, ok := e.Environment.Context.Get(budgetKey)
	if !ok {
		return nil
	}
	b, _ := v.(*budget)
	return b
}

func errValue(err error) *exec.Value { return exec.AsValue(err) }

func guardFilter(f exec.FilterFunction, checkSizeArgs bool) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		b := budgetOf(e)
		if b != nil {
			if err := b.tick(); err != nil {
				return errValue(err)
			}
			if checkSizeArgs && params != nil {
				for _, a := range params.Args {
					if a.IsInteger() {
						if err := b.size(a.Integer()); err != nil {
							return errValue(err)
						}
					}
				}
				for _, a := range params.KwArgs {
					if a.IsInteger() {
						if err := b.size(a.Integer()); err != nil {
							return errValue(err)
						}
					}
				}
			}
		}
		out := gonjaResult(f(e, in, params))
		if b != nil && out != nil && (out.IsString() || out.IsList()) {
			if err := b.size(out.Len()); err != nil {
				return errValue(err)
			}
		}
		return out
	}
}

func hostFuncs(e *exec.Evaluator) map[string]Func {
	if e == nil || e.Environment == nil || e.Environment.Context == nil {
		return nil
	}
	v, _ := e.Environment.Context.Get(funcsKey)
	m, _ := v.(map[string]Func)
	return m
}

// callMistral calls a Mistral custom function: a host function when the host
// provides one under that name, else the pure built-in version.
func callMistral(e *exec.Evaluator, name string, args []any) (any, error) {
	if b := budgetOf(e); b != nil {
		if err := b.tick(); err != nil {
			return nil, err
		}
	}
	if f, ok := hostFuncs(e)[name]; ok && f != nil {
		return f(args)
	}
	if f, ok := pureFuncs[name]; ok {
		return f(args)
	}
	return nil, fmt.Errorf("function %s() is not available here", name)
}

func funcFilter(name string) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return in
		}
		// Mistral's filters are its functions with the piped value as their
		// context argument, which only the execution-state functions read:
		// _|task("x") is task("x"), and x|json_dump lacks json_dump's data.
		args := []any{}
		if params != nil {
			for _, a := range params.Args {
				v, err := fromGonja(a)
				if err != nil {
					return errValue(err)
				}
				args = append(args, v)
			}
		}
		r, err := callMistral(e, name, args)
		if err != nil {
			return errValue(fmt.Errorf("%s: %w", name, err))
		}
		return exec.AsValue(toGonja(r))
	}
}

func globalFunc(name string) func(*exec.Evaluator, *exec.VarArgs) (any, error) {
	return func(e *exec.Evaluator, params *exec.VarArgs) (any, error) {
		args := []any{}
		for _, a := range params.Args {
			v, err := fromGonja(a)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		}
		r, err := callMistral(e, name, args)
		return toGonja(r), err
	}
}

// hostGlobal exposes a host function that is not one of Mistral's names.
func hostGlobal(f Func) func(*exec.Evaluator, *exec.VarArgs) (any, error) {
	return func(e *exec.Evaluator, params *exec.VarArgs) (any, error) {
		if b := budgetOf(e); b != nil {
			if err := b.tick(); err != nil {
				return nil, err
			}
		}
		args := []any{}
		for _, a := range params.Args {
			v, err := fromGonja(a)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		}
		r, err := f(args)
		return toGonja(r), err
	}
}

func tickFunc(e *exec.Evaluator, _ *exec.VarArgs) (string, error) {
	if b := budgetOf(e); b != nil {
		if err := b.tick(); err != nil {
			return "", err
		}
	}
	return "", nil
}

// rangeFunc replaces gonja's range, which feeds a channel from a goroutine
// that would leak if the loop were abandoned, and has no bound.
func rangeFunc(e *exec.Evaluator, params *exec.VarArgs) ([]any, error) {
	var start, stop, step = 0, 0, 1
	ints := make([]int, 0, 3)
	for _, a := range params.Args {
		if !a.IsInteger() {
			return nil, errors.New("range() takes integers")
		}
		ints = append(ints, a.Integer())
	}
	switch len(ints) {
	case 1:
		stop = ints[0]
	case 2:
		start, stop = ints[0], ints[1]
	case 3:
		start, stop, step = ints[0], ints[1], ints[2]
	default:
		return nil, errors.New("range() takes 1 to 3 integers")
	}
	if step == 0 {
		return nil, errors.New("range() step must not be zero")
	}
	n := 0
	if step > 0 && stop > start {
		n = (stop - start + step - 1) / step
	} else if step < 0 && stop < start {
		n = (start - stop - step - 1) / -step
	}
	if b := budgetOf(e); b != nil {
		if err := b.size(n); err != nil {
			return nil, err
		}
	}
	out := make([]any, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, start+i*step)
	}
	return out, nil
}

// binopFunc evaluates a binary operator after checking the size of what it
// would build, with Python's arithmetic (jinjaarith.go); the compiled
// template calls it in place of the operator.
func binopFunc(op tokens.Type, sym string) func(*exec.Evaluator, *exec.VarArgs) *exec.Value {
	expr := &nodes.BinaryExpression{
		Left:     &nodes.Name{Name: &tokens.Token{Type: tokens.Name, Val: "__lf_l"}},
		Right:    &nodes.Name{Name: &tokens.Token{Type: tokens.Name, Val: "__lf_r"}},
		Operator: &nodes.BinOperator{Token: &tokens.Token{Type: op, Val: sym}},
	}
	return func(e *exec.Evaluator, params *exec.VarArgs) *exec.Value {
		if len(params.Args) != 2 {
			return errValue(errors.New("internal: operator needs two operands"))
		}
		l, r := params.Args[0], params.Args[1]
		if b := budgetOf(e); b != nil {
			if err := b.tick(); err != nil {
				return errValue(err)
			}
			n := 0
			switch op {
			case tokens.Multiply:
				if (l.IsString() || l.IsList()) && r.IsInteger() {
					n = l.Len() * max(r.Integer(), 0)
					if r.Integer() > b.limits.MaxOutput {
						n = r.Integer()
					}
				} else if (r.IsString() || r.IsList()) && l.IsInteger() {
					n = r.Len() * max(l.Integer(), 0)
					if l.Integer() > b.limits.MaxOutput {
						n = l.Integer()
					}
				}
			case tokens.Tilde:
				n = len(l.String()) + len(r.String())
			case tokens.Addition:
				if (l.IsString() && r.IsString()) || (l.IsList() && r.IsList()) {
					n = l.Len() + r.Len()
				}
			}
			if err := b.size(n); err != nil {
				return errValue(err)
			}
		}
		if op == tokens.Addition {
			if v, ok := markupAdd(l, r); ok {
				return v
			}
		}
		if v, ok := pyArith(op, l, r); ok {
			return v
		}
		if op == tokens.Tilde {
			return concatStr(l, r)
		}
		if op == tokens.Modulo {
			if v, ok := modOrFormat(l, r); ok {
				return v
			}
		}
		if op == tokens.Multiply {
			if v, ok := repeatList(l, r); ok {
				return v
			}
			if v, ok := repeatText(l, r); ok {
				if isMarkup(l) || isMarkup(r) {
					return exec.AsValue(markup(v.String()))
				}
				return v
			}
		}
		return evalOperands(e, expr, l, r)
	}
}

// sourceLoader serves the one template source and refuses every other read,
// so no template can reach the file system.
type sourceLoader struct{ src string }

func (l *sourceLoader) Read(path string) (io.Reader, error) {
	if path != rootID {
		return nil, fmt.Errorf("templates cannot load %q: file access is disabled", path)
	}
	return strings.NewReader(l.src), nil
}

func (l *sourceLoader) Resolve(path string) (string, error) {
	if path != rootID {
		return "", fmt.Errorf("templates cannot load %q: file access is disabled", path)
	}
	return path, nil
}

func (l *sourceLoader) Inherit(string) (loaders.Loader, error) { return l, nil }

// jinjaNode is a compiled Jinja string. When the whole string is one {{ }}
// block, expr is set and the result keeps its type; otherwise the template is
// rendered to text.
type jinjaNode struct {
	text   string
	tmpl   *exec.Template
	output *nodes.Output // the single {{ }} when the string is exactly one
	noExpr bool          // only {% %} blocks, which Mistral cannot evaluate
	conds  []*condParts  // the conditionals __lf_if evaluates
}

// jinjaCache holds compiled templates by source. Compiled nodes are never
// modified after compilation, so one can serve every definition that
// contains the same string; gonja's parser is slow enough (it builds
// regular expressions per template) that repeated strings dominate load time.
var jinjaCache struct {
	sync.Mutex
	m map[string]*jinjaNode
}

const jinjaCacheMax = 4096

func compileJinja(s string) (node, error) {
	jinjaCache.Lock()
	n, ok := jinjaCache.m[s]
	jinjaCache.Unlock()
	if ok {
		return n, nil
	}
	n, err := compileJinjaUncached(s)
	if err != nil {
		return nil, err
	}
	jinjaCache.Lock()
	if jinjaCache.m == nil || len(jinjaCache.m) >= jinjaCacheMax {
		// Dropping everything is crude but bounded, and keeps no LRU bookkeeping on the hot path.
		jinjaCache.m = map[string]*jinjaNode{}
	}
	jinjaCache.m[s] = n
	jinjaCache.Unlock()
	return n, nil
}

func compileJinjaUncached(s string) (n *jinjaNode, err error) {
	if len(s) > DefaultLimits.MaxSource {
		return nil, fmt.Errorf("expression is longer than %d bytes", DefaultLimits.MaxSource)
	}
	defer func() {
		if p := recover(); p != nil {
			n, err = nil, fmt.Errorf("jinja parser failed: %v", p)
		}
	}()
	src, unary := repeatedUnary(bigIntLiterals(lstripBlocks(s)))
	src, ifs, err := inlineIf(src)
	if err != nil {
		return nil, err
	}
	tmpl, err := exec.NewTemplate(rootID, jinjaConfig, &sourceLoader{src: src}, jinjaEnv)
	if err != nil {
		return nil, ifWords(cleanJinjaError(err, src, s), src, ifs)
	}
	root := tmpl.Root()
	if root.Parent != nil {
		return nil, errors.New("template inheritance is not allowed")
	}
	g := &astGuard{seen: map[uintptr]bool{}, src: src, methods: map[*nodes.GetAttribute]bool{}, unary: unary, ifs: ifs}
	guardAST(reflect.ValueOf(root), g)
	if g.err != nil {
		return nil, g.err
	}
	jn := &jinjaNode{text: s, tmpl: tmpl, conds: g.conds}
	// Mistral's rule: the first {{ }} on one line decides. None at all is an
	// error; one that is the whole string is evaluated to a typed value.
	m := jinjaExprRe.FindStringIndex(s)
	jn.noExpr = m == nil
	if m != nil && m[0] == 0 && m[1] == len(s) && len(root.Nodes) == 1 {
		if o, ok := root.Nodes[0].(*nodes.Output); ok {
			jn.output = o
		}
	}
	return jn, nil
}

// lstripBlocks applies Jinja2's lstrip_blocks, which Mistral turns on:
// spaces and tabs before a block tag ({% or {#) that starts a line are
// removed, unless the tag opens with {%+.
func lstripBlocks(s string) string {
	if !strings.Contains(s, "\n") && !strings.HasPrefix(strings.TrimLeft(s, " \t"), "{") {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	for i, line := range lines {
		trimmed := strings.TrimLeft(line, " \t")
		if len(trimmed) == len(line) {
			continue
		}
		if (strings.HasPrefix(trimmed, "{%") && !strings.HasPrefix(trimmed, "{%+")) || strings.HasPrefix(trimmed, "{#") {
			lines[i] = trimmed
		}
	}
	return strings.Join(lines, "")
}

// cleanJinjaError drops gonja's "failed to parse template '<whole source>'"
// prefix, since callers already show the source. The source gonja parsed may
// be rewritten (bigIntLiterals, repeatedUnary): either is dropped.
func cleanJinjaError(err error, srcs ...string) error {
	msg := err.Error()
	for _, src := range srcs {
		msg = strings.Replace(msg, "failed to parse template '"+src+"': ", "", 1)
	}
	return errors.New(msg)
}

var (
	nodeExprType = reflect.TypeFor[nodes.Expression]()
	nodeNodeType = reflect.TypeFor[nodes.Node]()
	forType      = reflect.TypeFor[*controlStructures.ForControlStructure]()
)

// astGuard is the state of one guardAST walk: the nodes seen and the
// source the token positions index.
type astGuard struct {
	seen    map[uintptr]bool
	src     string
	methods map[*nodes.GetAttribute]bool // the d.name of a method call d.name()
	unary   map[int][]*tokens.Token      // repeatedUnary's removed operators
	ifs     map[int]bool                 // inlineIf's rewritten if (true) and else tokens
	conds   []*condParts                 // the conditionals built so far
	// condRoot is the conditional that replaces a run of or operators.
	condRoot map[*nodes.BinaryExpression]nodes.Expression
	err      error // a conditional gonja parsed but Jinja2 refuses
}

// guardAST rewrites the parsed template in place: every arithmetic operator
// and ~ becomes a call to the size-checking binopFunc, and every for-loop body gets a tick
// so loops count against the step budget. gonja's node types are plain
// structs, so a reflective walk reaches expressions inside any statement.
func guardAST(v reflect.Value, g *astGuard) {
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			guardAST(v.Elem(), g)
		}
	case reflect.Pointer:
		if v.IsNil() || g.seen[v.Pointer()] {
			return
		}
		if v.Type() == reflect.TypeFor[*tokens.Token]() {
			return
		}
		g.seen[v.Pointer()] = true
		if g.unary != nil {
			g.stackUnary(v.Interface())
		}
		if b, ok := v.Interface().(*nodes.BinaryExpression); ok && g.ifs != nil && g.condExpr(b) {
			return
		}
		if v.Type() == forType {
			f := v.Interface().(*controlStructures.ForControlStructure)
			if f.BodyWrapper != nil {
				f.BodyWrapper.Nodes = append(f.BodyWrapper.Nodes, tickNode())
			}
			if f.ObjectEvaluator != nil {
				f.ObjectEvaluator = iterCall(f.ObjectEvaluator)
			}
		}
		if m, ok := v.Interface().(*nodes.Macro); ok {
			guardMacro(m)
		}
		if f, ok := v.Interface().(*nodes.FilteredExpression); ok {
			g.bindFiltersToIn(f)
			splitAtDefault(f)
		}
		if b, ok := v.Interface().(*nodes.BinaryExpression); ok {
			g.chainComparisons(b)
		}
		if c, ok := v.Interface().(*nodes.Call); ok {
			methodReceiver(c)
			if a, ok := c.Func.(*nodes.GetAttribute); ok {
				g.methods[a] = true
			}
		}
		if a, ok := v.Interface().(*nodes.GetAttribute); ok && !g.methods[a] {
			guardDictMethod(a)
		}
		guardAST(v.Elem(), g)
		if o, ok := v.Interface().(*nodes.Output); ok {
			wrapOutput(o)
		}
		if f, ok := v.Interface().(*nodes.FilteredExpression); ok {
			guardDefault(f)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !f.CanSet() {
				if !f.CanAddr() {
					continue
				}
				// gonja keeps the expressions of statements such as set in
				// unexported fields; they need Python's operators too.
				f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
			}
			guardAST(f, g)
			if !g.replaceCond(f) {
				replaceBinop(f)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			guardAST(v.Index(i), g)
			if !g.replaceCond(v.Index(i)) {
				replaceBinop(v.Index(i))
			}
		}
	case reflect.Map:
		if v.Type().Elem() != nodeExprType && v.Type().Elem() != nodeNodeType {
			for _, k := range v.MapKeys() {
				guardAST(v.MapIndex(k), g)
			}
			return
		}
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			guardAST(e, g)
			if b, ok := e.Interface().(*nodes.BinaryExpression); ok && g.condRoot[b] != nil {
				v.SetMapIndex(k, reflect.ValueOf(g.condRoot[b]))
			} else if c := guardedCall(e); c != nil {
				v.SetMapIndex(k, reflect.ValueOf(c))
			}
		}
	}
}

func replaceBinop(f reflect.Value) {
	if f.Kind() != reflect.Interface || !f.CanSet() {
		return
	}
	if c := guardedCall(f); c != nil && reflect.TypeOf(c).AssignableTo(f.Type()) {
		f.Set(reflect.ValueOf(c))
	}
}

func guardedCall(v reflect.Value) *nodes.Call {
	if v.Kind() != reflect.Interface || v.IsNil() {
		return nil
	}
	if g, ok := v.Interface().(*nodes.GetItem); ok {
		return itemCall(g)
	}
	if l, ok := v.Interface().(*nodes.List); ok {
		return listCall(l)
	}
	if d, ok := v.Interface().(*nodes.Dict); ok {
		return dictLitCall(d)
	}
	if n, ok := v.Interface().(*nodes.Negation); ok && n.Operator != nil {
		return callTo(notName, n.Operator, n.Term)
	}
	if t, ok := v.Interface().(*nodes.TestExpression); ok {
		return testCall(t)
	}
	if u, ok := v.Interface().(*nodes.UnaryExpression); ok && u.Operator != nil {
		if u.Negative {
			return callTo(negName, u.Operator, u.Term)
		}
		return callTo(posName, u.Operator, u.Term)
	}
	if c, ok := v.Interface().(*nodes.Call); ok {
		return dictCall(c)
	}
	b, ok := v.Interface().(*nodes.BinaryExpression)
	if !ok || b.Operator == nil || b.Operator.Token == nil {
		return nil
	}
	name, ok := binopNames[b.Operator.Token.Type]
	if !ok {
		if name, ok = compareNames[b.Operator.Token.Type]; !ok {
			return nil
		}
	}
	right := b.Right
	if t, ok := right.(*nodes.Tuple); ok && b.Operator.Token.Type == tokens.Modulo && t.Location != nil {
		right = callTo(tupleName, t.Location, t.Val...)
	}
	return callTo(name, b.Operator.Token, b.Left, right)
}

func tickNode() *nodes.Output { return hookNode(tickName) }

// hookNode is a {{ name() }} that renders nothing: a call into the sandbox.
func hookNode(name string) *nodes.Output {
	c := callTo(name, nil)
	return &nodes.Output{Start: c.Location, End: c.Location, Expression: c}
}

func (n *jinjaNode) dataContext(ctx *Context) (*exec.Context, *budget) {
	b := &budget{limits: DefaultLimits, deadline: time.Now().Add(DefaultLimits.Timeout)}
	data := map[string]any{budgetKey: b, funcsKey: ctx.Funcs, condsKey: n.conds}
	data["_"] = toGonja(ctx.root())
	for name, f := range ctx.Funcs {
		if contains(mistralFuncs, name) {
			continue // reached through globalFunc, which prefers the host version
		}
		data[name] = hostGlobal(f)
	}
	// Mistral also exposes these three context entries at the top level.
	for _, k := range []string{"__env", "__execution", "__task_execution"} {
		if m, ok := ctx.Data.(map[string]any); ok {
			data[k] = toGonja(m[k])
		} else if m, ok := ctx.Data.(*value.Map); ok {
			data[k] = toGonja(m.Value(k))
		}
	}
	return exec.NewContext(data), b
}

// evaluator evaluates the expression of a single {{ }} with data.
func (n *jinjaNode) evaluator(data *exec.Context) *exec.Evaluator {
	return &exec.Evaluator{
		Config: jinjaConfig,
		Environment: &exec.Environment{
			Context:           jinjaEnv.Context.Inherit().Update(data),
			Filters:           jinjaEnv.Filters,
			Tests:             jinjaEnv.Tests,
			ControlStructures: jinjaEnv.ControlStructures,
			Methods:           jinjaEnv.Methods,
		},
		Loader: &sourceLoader{src: n.text},
	}
}

func (n *jinjaNode) eval(ctx *Context) (r any, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, &EvalError{Text: n.text, Err: fmt.Errorf("internal error in template engine: %v", p)}
		}
		if ee, ok := err.(*EvalError); ok {
			ee.Err = readableError(ee.Err)
		}
	}()
	if n.noExpr {
		return nil, &EvalError{Text: n.text, Err: errNoJinjaExpr}
	}
	dctx, b := n.dataContext(ctx)
	if n.output != nil {
		ev := n.evaluator(dctx)
		expr := unwrapStr(n.output.Expression)
		if n.output.Condition != nil {
			c := ev.Eval(n.output.Condition)
			if c.IsError() {
				return nil, &EvalError{Text: n.text, Err: unwrapGonja(c)}
			}
			if !c.IsTrue() {
				if n.output.Alternative == nil {
					// Jinja2's Undefined for `A if C`, which Mistral's
					// compile_expression cannot return.
					line := 1
					if at := n.output.Condition.Position(); at != nil {
						line = at.Line
					}
					return nil, &EvalError{Text: n.text, Err: fmt.Errorf(condUndefinedText, line)}
				}
				expr = unwrapStr(n.output.Alternative)
			}
		}
		v := ev.Eval(expr)
		if v.IsError() {
			return nil, &EvalError{Text: n.text, Err: unwrapGonja(v)}
		}
		out, err := fromGonja(v)
		if err == nil {
			err = finite(out)
		}
		if err != nil {
			return nil, &EvalError{Text: n.text, Err: err}
		}
		return out, nil
	}
	w := &limitWriter{max: b.limits.MaxOutput}
	if err := n.tmpl.Execute(w, dctx); err != nil {
		return nil, &EvalError{Text: n.text, Err: err}
	}
	return w.b.String(), nil
}
