package expr

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// Jinja2's grammar has the conditional `A if C else B` (and `A if C`) as its
// lowest-precedence expression, allowed wherever an expression is: in a list,
// a dict, call and filter arguments, a subscript, parentheses (which an if
// tag's test needs), a set tag, and nested on the right
// (`a if c1 else b if c2 else d`). gonja's parser takes one only at the top
// of {{ }} and of set; it keeps a lone one at the top of {{ }}, and inlineIf
// rewrites every other `if` and `else` of one into `or`, which has the next lowest
// precedence and keeps token positions; gonja then parses each conditional
// as one run of or operators, and condExpr splits that run at the rewritten
// tokens and builds the conditionals by Jinja2's rule (parse_condexpr):
// A and C are or-chains, B is again a conditional.

// condName is the function a conditional compiles to: __lf_if(n) evaluates
// the template's n-th conditional lazily, as Python does, since only the
// chosen branch may be evaluated (`1 if x else 1 // 0`).
const (
	condName = "__lf_if"
	condsKey = "__lf_conds"
)

// condUndefinedText is Jinja2's message for the Undefined a conditional
// without else gives when its condition is false.
const condUndefinedText = "the inline if-expression on line %d evaluated to false and no else section was defined"

var (
	maybeInlineIf      = regexp.MustCompile(`\bif\b`)
	condUndefinedStart = strings.SplitN(condUndefinedText, "%d", 2)[0]
	condCallPrefix     = "invalid call to function '" + condName + "': "
	// condTestPrefix marks the failure of a conditional's test, which
	// Jinja2 raises whatever the branches are (bool of an Undefined raises
	// under Mistral's StrictUndefined too); it reads like gonja's prefix of
	// an internal call, which user messages drop (internalCall).
	condTestPrefix = "invalid call to function '__lf_iftest': "
)

// condParts is one conditional: Else is nil for `A if C`. The fields are
// exported so that guardAST can rewrite the expressions in place.
type condParts struct {
	Then, Cond, Else nodes.Expression
	Line             int
	call             *nodes.Call // the __lf_if call that evaluates it
}

// inlineIf returns src with the if and else of every conditional that
// gonja cannot parse replaced by `or` padded with spaces, and those tokens'
// positions (true for if, false for else), or the conditional Jinja2 refuses.
func inlineIf(src string) (string, map[int]bool, error) {
	if !maybeInlineIf.MatchString(src) {
		return src, nil, nil
	}
	norm := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(src)
	var toks []*tokens.Token
	for s := tokens.LexAll(norm, jinjaConfig); !s.End(); s.Next() {
		if t := s.Current(); t.Type != tokens.Whitespace {
			toks = append(toks, t)
		}
	}
	var marks map[int]bool
	out := []byte(norm)
	for start := 0; start < len(toks); start++ {
		if toks[start].Type != tokens.VariableBegin && toks[start].Type != tokens.BlockBegin {
			continue
		}
		end := start + 1
		for end < len(toks) && toks[end].Type != tokens.VariableEnd && toks[end].Type != tokens.BlockEnd {
			end++
		}
		found, err := tagConditionals(toks[start:end])
		if err != nil {
			return src, nil, err
		}
		if toks[start].Type == tokens.VariableBegin && gonjaTakes(toks[start:end], found) {
			found = nil
		}
		for _, t := range found {
			if t.Pos+len(t.Val) > len(out) || norm[t.Pos:t.Pos+len(t.Val)] != t.Val {
				return src, nil, nil // positions do not index the text: leave it to the parser
			}
			copy(out[t.Pos:], "or"+strings.Repeat(" ", len(t.Val)-2))
			if marks == nil {
				marks = map[int]bool{}
			}
			marks[t.Pos] = t.Val == "if"
		}
		start = end
	}
	if marks == nil {
		return src, nil, nil
	}
	return string(out), marks, nil
}

var nearOr = regexp.MustCompile(`\(Line: (\d+) Col: (\d+), near "or"\)`)

// ifWords puts back the if or else a parse error shows as the or inlineIf
// made of it, so that the error names what the source says.
func ifWords(err error, src string, ifs map[int]bool) error {
	if len(ifs) == 0 || !nearOr.MatchString(err.Error()) {
		return err
	}
	msg := nearOr.ReplaceAllStringFunc(err.Error(), func(m string) string {
		sub := nearOr.FindStringSubmatch(m)
		line, _ := strconv.Atoi(sub[1])
		col, _ := strconv.Atoi(sub[2])
		pos := 0
		for ; line > 1 && pos < len(src); line-- {
			i := strings.IndexByte(src[pos:], '\n')
			if i < 0 {
				return m
			}
			pos += i + 1
		}
		isIf, ok := ifs[pos+col-1]
		switch {
		case !ok:
			return m
		case isIf:
			return strings.Replace(m, `"or"`, `"if"`, 1)
		}
		return strings.Replace(m, `"or"`, `"else"`, 1)
	})
	return errors.New(msg)
}

// tagConditionals returns the if and else tokens of the conditionals in
// one tag (tag[0] is its {{ or {%). An if is a conditional's when it follows
// an operand, except the first one after a for tag's in, which filters the
// loop; one outside brackets in an if or elif tag is an error, since
// Jinja2 parses their test without conditionals; an else is one when an if of the same bracket level is open.
// Separators (, : =) close the open ifs, so an else never pairs across
// expressions and gonja reports it.
func tagConditionals(tag []*tokens.Token) ([]*tokens.Token, error) {
	var found []*tokens.Token
	open := []int{0}
	var name string
	if len(tag) > 1 && tag[0].Type == tokens.BlockBegin && tag[1].Type == tokens.Name {
		name = tag[1].Val
	}
	isFor, ifTag := name == "for", name == "if" || name == "elif"
	// A for tag's first if after its in, at the top level, filters the loop.
	const beforeIn, filterNext, filterTaken = 0, 1, 2
	loop := filterTaken
	if isFor {
		loop = beforeIn
	}
	for i := 1; i < len(tag); i++ {
		t := tag[i]
		top := len(open) - 1
		switch t.Type {
		case tokens.LeftParenthesis, tokens.LeftBracket, tokens.LeftBrace:
			open = append(open, 0)
		case tokens.RightParenthesis, tokens.RightBracket, tokens.RightBrace:
			if top > 0 {
				open = open[:top]
			}
		case tokens.Comma, tokens.Colon, tokens.Assign:
			open[top] = 0
		case tokens.In:
			if loop == beforeIn && top == 0 {
				loop = filterNext
			}
		case tokens.Name:
			switch {
			case t.Val == "if" && endsOperand(tag[i-1]):
				if top == 0 && ifTag {
					return nil, fmt.Errorf("expected the end of the %s tag, got 'if': a conditional in its test needs parentheses, as in Jinja2 (line %d, column %d)", name, t.Line, t.Col)
				}
				if loop == filterNext && top == 0 {
					loop = filterTaken
					continue
				}
				open[top]++
				found = append(found, t)
			case t.Val == "else" && open[top] > 0:
				open[top]--
				found = append(found, t)
			}
		}
	}
	return found, nil
}

// gonjaTakes reports whether gonja's own parser reads the conditionals of a
// {{ }}: one if, with at most one else, both outside brackets. It renders
// `a{{ x if c }}b` with nothing for x, as Jinja2 does.
func gonjaTakes(tag, found []*tokens.Token) bool {
	if len(found) == 0 || len(found) > 2 || (len(found) == 2 && found[1].Val != "else") {
		return false
	}
	depth := 0
	for _, t := range tag[1:] {
		switch t.Type {
		case tokens.LeftParenthesis, tokens.LeftBracket, tokens.LeftBrace:
			depth++
		case tokens.RightParenthesis, tokens.RightBracket, tokens.RightBrace:
			depth--
		}
		for _, f := range found {
			if t == f && depth != 0 {
				return false
			}
		}
	}
	return true
}

// condExpr replaces the run of or operators b heads with the conditionals
// inlineIf turned into it, if it holds any: the replacement is recorded for
// the parent (replaceCond) and walked in place of b. It reports whether b
// was replaced.
func (g *astGuard) condExpr(b *nodes.BinaryExpression) bool {
	if !isOr(b) {
		return false
	}
	operands, ops := g.orRun(b)
	marked := false
	for _, op := range ops {
		if _, ok := g.ifs[op.Pos]; ok {
			marked = true
		}
	}
	if !marked {
		return false
	}
	p := &condParser{g: g, operands: operands, ops: ops}
	e := p.condexpr()
	if p.k < len(ops) && g.err == nil {
		t := ops[p.k]
		g.err = fmt.Errorf("unexpected 'else' (line %d, column %d)", t.Line, t.Col)
	}
	// Inner conditionals come first, so an outer one's branches have their
	// kinds when it takes its own.
	for _, c := range p.made {
		guardAST(reflect.ValueOf(c).Elem(), g)
		c.call.Args = append(c.call.Args, kindNode(undefCond+c.kind(), c.call.Location))
	}
	if g.condRoot == nil {
		g.condRoot = map[*nodes.BinaryExpression]nodes.Expression{}
	}
	g.condRoot[b] = e
	return true
}

func isOr(b *nodes.BinaryExpression) bool {
	return b.Operator != nil && b.Operator.Token != nil && b.Operator.Token.Type == tokens.Or
}

// orRun flattens the left-nested or operators gonja built for one run
// (a or b or c is ((a or b) or c)); a parenthesized left operand is an
// operand.
func (g *astGuard) orRun(b *nodes.BinaryExpression) ([]nodes.Expression, []*tokens.Token) {
	var operands []nodes.Expression
	var ops []*tokens.Token
	if l, ok := b.Left.(*nodes.BinaryExpression); ok && isOr(l) && !g.parenthesized(l, b) {
		operands, ops = g.orRun(l)
	} else {
		operands = []nodes.Expression{b.Left}
	}
	return append(operands, b.Right), append(ops, b.Operator.Token)
}

// condParser reads a flattened run: ops[i] stands between operands[i] and
// operands[i+1]; k is the operand it is at.
type condParser struct {
	g        *astGuard
	operands []nodes.Expression
	ops      []*tokens.Token
	k        int
	made     []*condParts
}

// at reports whether the operator after the current operand is a
// rewritten if (want true) or else (want false).
func (p *condParser) at(want bool) bool {
	if p.k >= len(p.ops) {
		return false
	}
	isIf, ok := p.g.ifs[p.ops[p.k].Pos]
	return ok && isIf == want
}

// orChain reads operands joined by plain or up to the next if or else.
func (p *condParser) orChain() nodes.Expression {
	e := p.operands[p.k]
	for p.k < len(p.ops) {
		if _, marked := p.g.ifs[p.ops[p.k].Pos]; marked {
			break
		}
		e = &nodes.BinaryExpression{Left: e, Right: p.operands[p.k+1], Operator: &nodes.BinOperator{Token: p.ops[p.k]}}
		p.k++
	}
	return e
}

// condexpr is Jinja2's parse_condexpr over the run.
func (p *condParser) condexpr() nodes.Expression {
	e := p.orChain()
	for p.at(true) {
		ifTok := p.ops[p.k]
		p.k++
		c := &condParts{Then: e, Cond: p.orChain(), Line: ifTok.Line}
		if p.at(false) {
			p.k++
			c.Else = p.condexpr()
		}
		p.g.conds = append(p.g.conds, c)
		p.made = append(p.made, c)
		id := &tokens.Token{Type: tokens.Integer, Val: fmt.Sprint(len(p.g.conds) - 1), Line: ifTok.Line, Col: ifTok.Col, Pos: ifTok.Pos}
		c.call = callTo(condName, ifTok, &nodes.Integer{Location: id, Val: len(p.g.conds) - 1})
		e = c.call
	}
	return e
}

// kind is the undefined kind the conditional's branches share: which
// failures of theirs are Undefined, which a test or default then sees
// through the conditional ({{ (_.d.zz if c else 1) is defined }}).
func (c *condParts) kind() string {
	thenRaise, kind := undefinedKind(c.Then)
	if c.Else == nil {
		return kind
	}
	elseRaise, elseKind := undefinedKind(c.Else)
	switch {
	case !elseRaise:
		return kind
	case !thenRaise || kind == elseKind:
		return elseKind
	}
	return undefNone
}

// condFailed reports whether v, a conditional's failure, raises: its own
// Undefined (no else) does not, a branch's failure as that branch's kind says.
func condFailed(v *exec.Value, kind string) bool {
	// gonja prefixes the failure of each __lf_if call it went through.
	msg := v.Error()
	for strings.HasPrefix(msg, condCallPrefix) {
		msg = msg[len(condCallPrefix):]
	}
	if strings.HasPrefix(msg, condUndefinedStart) {
		return false
	}
	if strings.HasPrefix(msg, condTestPrefix) {
		return true
	}
	return failed(errValue(errors.New(msg)), strings.TrimPrefix(kind, undefCond))
}

// replaceCond puts the conditional condExpr built for the run in f in its
// place, and reports whether it did.
func (g *astGuard) replaceCond(f reflect.Value) bool {
	if g.condRoot == nil || f.Kind() != reflect.Interface || f.IsNil() || !f.CanSet() {
		return false
	}
	b, ok := f.Interface().(*nodes.BinaryExpression)
	if !ok || g.condRoot[b] == nil {
		return false
	}
	f.Set(reflect.ValueOf(g.condRoot[b]))
	return true
}

// condFunc evaluates the conditional its argument numbers: the condition
// by Python's truth, then only the chosen branch.
func condFunc(e *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	var conds []*condParts
	if e != nil && e.Environment != nil && e.Environment.Context != nil {
		if v, ok := e.Environment.Context.Get(condsKey); ok {
			conds, _ = v.([]*condParts)
		}
	}
	if len(params.Args) != 2 || !params.Args[0].IsInteger() || params.Args[0].Integer() < 0 || params.Args[0].Integer() >= len(conds) {
		return errValue(fmt.Errorf("%s: %w", condName, errInternalArgs))
	}
	c := conds[params.Args[0].Integer()]
	cond := e.Eval(c.Cond)
	if cond.IsError() {
		return errValue(errors.New(condTestPrefix + cond.Error()))
	}
	t, err := condTruth(cond)
	if err != nil {
		return errValue(err)
	}
	switch {
	case t:
		return e.Eval(c.Then)
	case c.Else != nil:
		return e.Eval(c.Else)
	}
	return errValue(fmt.Errorf(condUndefinedText, c.Line))
}

// condTruth is Python's bool of a condition. A list is true when
// it has items, whatever they hold: an Undefined item (`[x if 0]`) makes it
// no less true in Jinja2, while converting it would fail.
func condTruth(v *exec.Value) (bool, error) {
	if v.IsList() {
		return v.Len() > 0, nil
	}
	x, err := fromGonja(v)
	return truthy(x), err
}
