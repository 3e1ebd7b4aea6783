package expr

import (
	"regexp"
	"slices"
	"strings"

	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// Jinja2's parser recurses on unary operators (parse_unary takes a sign and
// then another unary, parse_not a not and then another not), so `--3`,
// `+-x` and `not not x` are valid and mean -(-3), +(-x) and not (not x).
// gonja's parser takes one sign or one not and fails on the second. Since the
// operand of a repeated operator is exactly the operand of its last one,
// repeatedUnary blanks all but the last operator of a run in the source and
// records them by the position of the last; stackUnary puts them back around
// the node gonja parsed for that last one.

// maybeRepeatedUnary skips lexing for the sources that cannot hold a run.
var maybeRepeatedUnary = regexp.MustCompile(`[-+]\s*[-+]|\bnot\s+not\b`)

// repeatedUnary returns src with every unary operator but the last of each
// run replaced by spaces (so token positions do not move), and the removed
// operators, outermost first, by the position of the run's last operator.
func repeatedUnary(src string) (string, map[int][]*tokens.Token) {
	if !maybeRepeatedUnary.MatchString(src) {
		return src, nil
	}
	// Token positions index the lexer's text, which has only \n newlines.
	norm := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(src)
	var toks []*tokens.Token
	for s := tokens.LexAll(norm, jinjaConfig); !s.End(); s.Next() {
		if t := s.Current(); t.Type != tokens.Whitespace {
			toks = append(toks, t)
		}
	}
	var extra map[int][]*tokens.Token
	out := []byte(norm)
	for i := 0; i < len(toks); {
		j := i
		for j < len(toks) && sameUnaryKind(toks[i], toks[j]) {
			j++
		}
		if j == i {
			i++
			continue
		}
		first := i
		if i > 0 && endsOperand(toks[i-1]) {
			first++ // a binary + or -, or the not of `not in`
		}
		if toks[i].Type == tokens.Not && (i > 0 && toks[i-1].Type == tokens.Is || j < len(toks) && toks[j].Type == tokens.In) {
			first = j // `is not`, `not in`: Jinja2 does not take those twice either
		}
		if j-first >= 2 {
			last := toks[j-1]
			if extra == nil {
				extra = map[int][]*tokens.Token{}
			}
			for _, t := range toks[first : j-1] {
				if t.Pos+len(t.Val) > len(out) || norm[t.Pos:t.Pos+len(t.Val)] != t.Val {
					return src, nil // positions do not index the text: leave it to the parser
				}
				copy(out[t.Pos:], strings.Repeat(" ", len(t.Val)))
				extra[last.Pos] = append(extra[last.Pos], t)
			}
		}
		i = j
	}
	if extra == nil {
		return src, nil
	}
	return string(out), extra
}

// sameUnaryKind reports whether t continues a run that began with first:
// signs (+ and - mix) or nots.
func sameUnaryKind(first, t *tokens.Token) bool {
	if first.Type == tokens.Not {
		return t.Type == tokens.Not
	}
	return (first.Type == tokens.Addition || first.Type == tokens.Subtraction) &&
		(t.Type == tokens.Addition || t.Type == tokens.Subtraction)
}

// endsOperand reports whether an operator after t is binary.
func endsOperand(t *tokens.Token) bool {
	switch t.Type {
	case tokens.Integer, tokens.Float, tokens.String, tokens.RightParenthesis, tokens.RightBracket, tokens.RightBrace:
		return true
	case tokens.Name:
		return t.Val != "if" && t.Val != "elif" && t.Val != "else"
	}
	return false
}

// stackUnary wraps the unary node gonja parsed for the last operator of a
// run in the operators repeatedUnary removed before it, innermost last.
func (g *astGuard) stackUnary(v any) {
	switch n := v.(type) {
	case *nodes.UnaryExpression:
		for _, op := range g.takeUnary(n.Operator) {
			n.Term = &nodes.UnaryExpression{Operator: n.Operator, Negative: n.Negative, Term: n.Term}
			n.Operator, n.Negative = op, op.Type == tokens.Subtraction
		}
	case *nodes.Negation:
		for _, op := range g.takeUnary(n.Operator) {
			n.Term = &nodes.Negation{Operator: n.Operator, Term: n.Term}
			n.Operator = op
		}
	}
}

// takeUnary removes and returns the operators recorded before last, from
// the nearest one out.
func (g *astGuard) takeUnary(last *tokens.Token) []*tokens.Token {
	if last == nil {
		return nil
	}
	outer := g.unary[last.Pos]
	delete(g.unary, last.Pos)
	slices.Reverse(outer)
	return outer
}
