package yaql

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lazyflow/lazyflow/core/value"
)

type tokKind uint8

const (
	tEOF    tokKind = iota
	tInt            // 12
	tFloat          // 1.5
	tString         // 'quoted', "quoted" or `verbatim`
	tIdent          // a bare word: a string literal, a function name or a keyword
	tDollar         // $, $name, $1
	tOp             // punctuation and symbolic operators
)

type token struct {
	kind tokKind
	pos  int    // byte offset in the source
	text string // operator text, identifier, variable name (without $) or decoded string
	ival any    // int64, or *big.Int beyond it
	fval float64
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return "string " + strconv.Quote(t.text)
	case tDollar:
		return `"$` + t.text + `"`
	case tIdent:
		return `"` + t.text + `"`
	}
	return `"` + t.text + `"`
}

// ops lists symbolic operators longest first so that "<=" wins over "<".
var ops = []string{"=>", "->", "?.", "!=", "<=", ">=", "=~", "!~", "(", ")", "[", "]", "{", "}", ",", ".", "+", "-", "*", "/", "=", "<", ">"}

// lex splits src into tokens. Bare words follow YAQL's rule (a letter or
// underscore, then letters, digits or underscores, not starting with "__"),
// so `$.where($.name = ubuntu)` compares with the string "ubuntu". Tokens are
// appended to toks, which may be a recycled slice.
func lex(src string, toks []token) ([]token, error) {
	i := 0
	for i < len(src) {
		c := src[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		start := i
		switch {
		case c >= '0' && c <= '9':
			for i < len(src) && isDigit(src[i]) {
				i++
			}
			isFloat := false
			if i+1 < len(src) && src[i] == '.' && isDigit(src[i+1]) {
				isFloat = true
				i++
				for i < len(src) && isDigit(src[i]) {
					i++
				}
			}
			text := src[start:i]
			if isFloat {
				f, err := strconv.ParseFloat(text, 64)
				if err != nil {
					return toks, syntaxErr(src, start, "invalid number "+text)
				}
				toks = append(toks, token{kind: tFloat, pos: start, text: text, fval: f})
			} else {
				n, err := intLiteral(text)
				if err != nil {
					return toks, syntaxErr(src, start, err.Error())
				}
				toks = append(toks, token{kind: tInt, pos: start, text: text, ival: n})
			}
		case c == '\'' || c == '"' || c == '`':
			s, n, err := lexString(src, i)
			if err != nil {
				return toks, err
			}
			i = n
			toks = append(toks, token{kind: tString, pos: start, text: s})
		case c == '$':
			i++
			for i < len(src) {
				r, size := utf8.DecodeRuneInString(src[i:])
				if !isWordRune(r) {
					break
				}
				i += size
			}
			toks = append(toks, token{kind: tDollar, pos: start, text: src[start+1 : i]})
		default:
			r, size := utf8.DecodeRuneInString(src[i:])
			if r == '_' || unicode.IsLetter(r) {
				i += size
				for i < len(src) {
					r, size := utf8.DecodeRuneInString(src[i:])
					if !isWordRune(r) {
						break
					}
					i += size
				}
				word := src[start:i]
				if strings.HasPrefix(word, "__") {
					return toks, syntaxErr(src, start, `names starting with "__" are reserved`)
				}
				toks = append(toks, token{kind: tIdent, pos: start, text: word})
				continue
			}
			matched := false
			for _, op := range ops {
				if strings.HasPrefix(src[i:], op) {
					toks = append(toks, token{kind: tOp, pos: start, text: op})
					i += len(op)
					matched = true
					break
				}
			}
			if !matched {
				return toks, syntaxErr(src, start, "unexpected character "+strconv.QuoteRune(r))
			}
		}
	}
	toks = append(toks, token{kind: tEOF, pos: len(src)})
	return toks, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// lexString decodes a quoted string starting at src[i]. Single and double
// quotes take Python-style escapes; backquotes are verbatim except for \`.
func lexString(src string, i int) (string, int, error) {
	q := src[i]
	start := i
	i++
	var b strings.Builder
	for i < len(src) {
		c := src[i]
		if c == q {
			return b.String(), i + 1, nil
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(src) {
			break
		}
		e := src[i+1]
		if q == '`' {
			if e == '`' {
				b.WriteByte('`')
			} else {
				b.WriteByte('\\')
				b.WriteByte(e)
			}
			i += 2
			continue
		}
		i += 2
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case 'a':
			b.WriteByte('\a')
		case '0':
			b.WriteByte(0)
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'u', 'U', 'x':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+n > len(src) {
				return "", 0, syntaxErr(src, i-2, "truncated \\"+string(e)+" escape")
			}
			v, err := strconv.ParseUint(src[i:i+n], 16, 32)
			if err != nil || v > unicode.MaxRune {
				return "", 0, syntaxErr(src, i-2, "invalid \\"+string(e)+" escape")
			}
			b.WriteRune(rune(v))
			i += n
		default:
			// Python keeps unknown escapes as written.
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return "", 0, syntaxErr(src, start, "unterminated string")
}

func intLiteral(text string) (any, error) {
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n, nil
	}
	b, ok := new(big.Int).SetString(text, 10)
	if !ok {
		return nil, fmt.Errorf("invalid number %s", text)
	}
	v, err := value.IntOf(b)
	if err != nil {
		return nil, fmt.Errorf("integer literal of %d digits: %w", len(text), err)
	}
	return v, nil
}
