package yaql

import "fmt"

// The syntax tree. Nodes are plain structs; compile.go turns them into
// closures so that evaluation does not walk or type-switch on the tree.
type node interface{ position() int }

type (
	nLit struct {
		pos int
		v   any
	}
	// nIdent is a bare word. Its meaning depends on where it stands: a string
	// in most places, a variable name on the left of => in let().
	nIdent struct {
		pos  int
		name string
	}
	nVar struct { // $ (name ""), $name, $1
		pos  int
		name string
	}
	nUnary struct {
		pos int
		op  string
		x   node
	}
	nBinary struct {
		pos  int
		op   string
		l, r node
	}
	nMember struct { // x.name, x?.name
		pos   int
		x     node
		name  string
		elvis bool
	}
	nCall struct { // name(args), recv.name(args), recv?.name(args)
		pos   int
		recv  node // nil for a plain function call
		name  string
		args  []node
		elvis bool
	}
	nIndex struct { // x[args]
		pos  int
		x    node
		args []node
	}
	nList struct {
		pos   int
		items []node
	}
	nDict struct {
		pos   int
		pairs []*nPair
	}
	nPair struct { // k => v, inside calls, indexers and dict literals
		pos  int
		k, v node
	}
)

func (n *nLit) position() int    { return n.pos }
func (n *nIdent) position() int  { return n.pos }
func (n *nVar) position() int    { return n.pos }
func (n *nUnary) position() int  { return n.pos }
func (n *nBinary) position() int { return n.pos }
func (n *nMember) position() int { return n.pos }
func (n *nCall) position() int   { return n.pos }
func (n *nIndex) position() int  { return n.pos }
func (n *nList) position() int   { return n.pos }
func (n *nDict) position() int   { return n.pos }
func (n *nPair) position() int   { return n.pos }

// Binding powers, loosest first, as in YAQL's operator table.
const (
	bpArrow   = 10 // -> (right associative)
	bpOr      = 20
	bpAnd     = 30
	bpNot     = 40 // prefix not
	bpCompare = 50 // = != < <= > >= in
	bpAdd     = 60 // + -
	bpMul     = 70 // * / mod
	bpMatch   = 80 // =~ !~
	bpUnary   = 90 // prefix + -
	bpPostfix = 100
)

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isOp(text string) bool {
	t := p.toks[p.i]
	return t.kind == tOp && t.text == text
}

func (p *parser) errAt(t token, format string, args ...any) error {
	return syntaxErr(p.src, t.pos, fmt.Sprintf(format, args...))
}

func (p *parser) expect(text string) error {
	if p.isOp(text) {
		p.next()
		return nil
	}
	t := p.peek()
	return p.errAt(t, "expected %q but found %s", text, t.describe())
}

func (p *parser) parseAll() (node, error) {
	if p.peek().kind == tEOF {
		return nil, p.errAt(p.peek(), "expected an expression but found end of expression")
	}
	n, err := p.parseExpr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, "expected an operator or end of expression but found %s", t.describe())
	}
	return n, nil
}

// infix returns the binding power of the token as a binary or postfix
// operator, or 0 when it is not one.
func infix(t token) (bp int, op string) {
	switch t.kind {
	case tOp:
		switch t.text {
		case "->":
			return bpArrow, t.text
		case "=", "!=", "<", "<=", ">", ">=":
			return bpCompare, t.text
		case "+", "-":
			return bpAdd, t.text
		case "*", "/":
			return bpMul, t.text
		case "=~", "!~":
			return bpMatch, t.text
		case ".", "?.", "[":
			return bpPostfix, t.text
		}
	case tIdent:
		switch t.text {
		case "or":
			return bpOr, t.text
		case "and":
			return bpAnd, t.text
		case "in":
			return bpCompare, t.text
		case "mod":
			return bpMul, t.text
		}
	}
	return 0, ""
}

func (p *parser) parseExpr(minBP int) (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxDepth {
		return nil, p.errAt(p.peek(), "expression is nested more than %d levels deep", MaxDepth)
	}
	left, err := p.parsePrefix()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		bp, op := infix(t)
		if bp == 0 || bp <= minBP {
			return left, nil
		}
		p.next()
		switch op {
		case ".", "?.":
			name := p.next()
			if name.kind != tIdent {
				return nil, p.errAt(name, "expected a name after %q but found %s", op, name.describe())
			}
			if p.isOp("(") {
				p.next()
				args, err := p.parseArgs(")")
				if err != nil {
					return nil, err
				}
				left = &nCall{pos: name.pos, recv: left, name: name.text, args: args, elvis: op == "?."}
			} else {
				left = &nMember{pos: name.pos, x: left, name: name.text, elvis: op == "?."}
			}
		case "[":
			args, err := p.parseArgs("]")
			if err != nil {
				return nil, err
			}
			if len(args) == 0 {
				return nil, p.errAt(t, "expected an index inside []")
			}
			left = &nIndex{pos: t.pos, x: left, args: args}
		case "->":
			// Right associative: a -> b -> c is a -> (b -> c).
			right, err := p.parseExpr(bpArrow - 1)
			if err != nil {
				return nil, err
			}
			left = &nBinary{pos: t.pos, op: op, l: left, r: right}
		default:
			right, err := p.parseExpr(bp)
			if err != nil {
				return nil, err
			}
			left = &nBinary{pos: t.pos, op: op, l: left, r: right}
		}
	}
}

func (p *parser) parsePrefix() (node, error) {
	t := p.next()
	switch t.kind {
	case tInt:
		return &nLit{pos: t.pos, v: t.ival}, nil
	case tFloat:
		return &nLit{pos: t.pos, v: t.fval}, nil
	case tString:
		return &nLit{pos: t.pos, v: t.text}, nil
	case tDollar:
		return &nVar{pos: t.pos, name: t.text}, nil
	case tIdent:
		switch t.text {
		case "true":
			return &nLit{pos: t.pos, v: true}, nil
		case "false":
			return &nLit{pos: t.pos, v: false}, nil
		case "null":
			return &nLit{pos: t.pos, v: nil}, nil
		case "not":
			x, err := p.parseExpr(bpNot)
			if err != nil {
				return nil, err
			}
			return &nUnary{pos: t.pos, op: "not", x: x}, nil
		case "and", "or", "mod", "in":
			return nil, p.errAt(t, "expected an expression but found %s", t.describe())
		}
		if p.isOp("(") {
			p.next()
			args, err := p.parseArgs(")")
			if err != nil {
				return nil, err
			}
			return &nCall{pos: t.pos, name: t.text, args: args}, nil
		}
		return &nIdent{pos: t.pos, name: t.text}, nil
	case tOp:
		switch t.text {
		case "-", "+":
			x, err := p.parseExpr(bpUnary)
			if err != nil {
				return nil, err
			}
			// Fold negative literals so they cost nothing at run time.
			if lit, ok := x.(*nLit); ok && t.text == "-" {
				switch v := lit.v.(type) {
				case int64:
					return &nLit{pos: t.pos, v: -v}, nil
				case float64:
					return &nLit{pos: t.pos, v: -v}, nil
				}
			}
			return &nUnary{pos: t.pos, op: t.text, x: x}, nil
		case "(":
			x, err := p.parseExpr(0)
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return x, nil
		case "[":
			items, err := p.parseArgs("]")
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				if pr, ok := it.(*nPair); ok {
					return nil, syntaxErr(p.src, pr.pos, `"=>" is not allowed in a list; use {key => value} for a dict`)
				}
			}
			return &nList{pos: t.pos, items: items}, nil
		case "{":
			items, err := p.parseArgs("}")
			if err != nil {
				return nil, err
			}
			d := &nDict{pos: t.pos}
			for _, it := range items {
				pr, ok := it.(*nPair)
				if !ok {
					return nil, syntaxErr(p.src, it.position(), `expected key => value in a dict`)
				}
				d.pairs = append(d.pairs, pr)
			}
			return d, nil
		}
	}
	return nil, p.errAt(t, "expected an expression but found %s", t.describe())
}

// parseArgs reads comma-separated arguments up to close; an argument may be
// a key => value pair.
func (p *parser) parseArgs(close string) ([]node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxDepth {
		return nil, p.errAt(p.peek(), "expression is nested more than %d levels deep", MaxDepth)
	}
	var args []node
	if p.isOp(close) {
		p.next()
		return args, nil
	}
	for {
		a, err := p.parseExpr(0)
		if err != nil {
			return nil, err
		}
		if p.isOp("=>") {
			arrow := p.next()
			v, err := p.parseExpr(0)
			if err != nil {
				return nil, err
			}
			a = &nPair{pos: arrow.pos, k: a, v: v}
		}
		args = append(args, a)
		if p.isOp(",") {
			p.next()
			continue
		}
		if p.isOp(close) {
			p.next()
			return args, nil
		}
		t := p.peek()
		return nil, p.errAt(t, "expected \",\" or %q but found %s", close, t.describe())
	}
}
