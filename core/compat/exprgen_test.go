package compat

import "strings"

// exprGen builds one expression from a stream of choices (the fuzz input):
// each choice byte picks a production. When the stream runs out every choice
// is 0, the first alternative, which is always a leaf, so any input gives a
// finite expression.
type exprGen struct {
	choices []byte
	next    int
	g       exprGrammar
}

// maxExprDepth keeps expressions small enough to read in a failure and
// cheap for both evaluators.
const maxExprDepth = 4

// A grammar maps a type to its productions: leaves first (no holes), then
// productions whose holes @int, @float, @num, @str, @lit, @small, @list, @bool
// and @any are filled with generated expressions of that type.
type exprGrammar struct {
	lang       string
	open, shut string
	rules      map[string]exprRule
}

type exprRule struct{ leaves, nodes []string }

func (g *exprGen) pick(n int) int {
	if g.next >= len(g.choices) {
		return 0
	}
	c := g.choices[g.next]
	g.next++
	return int(c) % n
}

// expression is the first choice's language, then an expression of any type.
func (g *exprGen) expression() exprCase {
	g.g = yaqlGrammar
	if g.pick(2) == 1 {
		g.g = jinjaGrammar
	}
	e := g.gen("any", 0)
	return exprCase{ID: "fuzz", Lang: g.g.lang, Expr: g.g.open + e + g.g.shut}
}

func (g *exprGen) gen(typ string, depth int) string {
	r := g.g.rules[typ]
	n := len(r.leaves)
	if depth < maxExprDepth {
		n += len(r.nodes)
	}
	i := g.pick(n)
	if i < len(r.leaves) {
		return r.leaves[i]
	}
	return g.fill(r.nodes[i-len(r.leaves)], depth+1)
}

// fill replaces each hole of a production; one hole in sixteen takes a value
// of any type, so that type errors are compared too.
func (g *exprGen) fill(p string, depth int) string {
	var b strings.Builder
	for {
		at := strings.IndexByte(p, '@')
		if at < 0 {
			b.WriteString(p)
			return b.String()
		}
		b.WriteString(p[:at])
		end := at + 1
		for end < len(p) && p[end] >= 'a' && p[end] <= 'z' {
			end++
		}
		typ := p[at+1 : end]
		if typ != "lit" && typ != "small" && g.pick(16) == 15 {
			typ = "any"
		}
		e := g.gen(typ, depth)
		// A compound receiver of a method, index or filter is parenthesized:
		// unparenthesized, the grammar of precedence is what gets tested.
		if end < len(p) && strings.IndexByte(".[|", p[end]) >= 0 && strings.ContainsAny(e, " |-") && !wrapped(e) {
			e = "(" + e + ")"
		}
		b.WriteString(e)
		p = p[end:]
	}
}

// wrapped reports whether e is one parenthesized or bracketed expression.
func wrapped(e string) bool {
	if len(e) < 2 || strings.IndexByte("([{", e[0]) < 0 {
		return false
	}
	depth := 0
	for i := 0; i < len(e); i++ {
		switch e[i] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 && i < len(e)-1 {
				return false
			}
		}
	}
	return depth == 0
}

// Shared leaves: literals both languages write alike.
var (
	intLeaves   = []string{"0", "1", "2", "7", "-3", "42", "123456789012", "9007199254740993"}
	floatLeaves = []string{"2.5", "-0.5", "0.1", "1.0", "3.75"}
	strLeaves   = []string{"'hello'", "''", "'a,b,c'", "' pad '", "'Ab'", "'x y z'"}
	litLeaves   = []string{"'a'", "','", "'l'", "''", "' '", "'b'"}
	smallLeaves = []string{"0", "1", "2", "3"}
)

func with(base []string, more ...string) []string {
	return append(append([]string{}, base...), more...)
}

var yaqlGrammar = exprGrammar{lang: "yaql", open: "<% ", shut: " %>", rules: map[string]exprRule{
	"lit":   {leaves: litLeaves},
	"small": {leaves: smallLeaves},
	"int": {leaves: with(intLeaves, "$.i", "$.neg"), nodes: []string{
		"(@int + @int)", "(@int - @int)", "(@int * @int)", "(@int mod @int)", "(-@int)",
		"len(@str)", "len(@list)", "@list.len()", "abs(@int)", "@list.sum()", "@list.max()", "@list.min()",
		"int(@float)", "@list[@small]", "@list.count()", "@list.first()", "@list.last()", "@str.indexOf(@lit)",
	}},
	"float": {leaves: with(floatLeaves, "$.f"), nodes: []string{
		"(@num / @num)", "(@float + @num)", "(@float * @int)", "(@float - @float)", "float(@int)", "abs(@float)",
		"$.fs.sum()", "round(@float, 1)", "(-@float)",
	}},
	"num": {leaves: []string{"1", "2.5"}, nodes: []string{"@int", "@float"}},
	"str": {leaves: with(strLeaves, "$.s", "$.u"), nodes: []string{
		"(@str + @str)", "@str.toUpper()", "@str.toLower()", "@str.trim()", "@str.replace(@lit, @lit)",
		"@str.split(@lit).join(@lit)", "str(@num)", "@str.substring(@small)", "@str.substring(@small, @small)",
		"@list.select(str($)).join(@lit)", "@str.toCharArray().join(@lit)", "$.users[@small].name", "@str * @small",
	}},
	"list": {leaves: []string{"[]", "[1, 2, 3]", "$.xs", "[-1, 0, 5]"}, nodes: []string{
		"@list.select($ * 2)", "@list.where($ > @int)", "@list.orderBy($)", "@list.orderByDescending($)",
		"@list.distinct()", "@list.reverse()", "(@list + @list)", "@list.skip(@small)", "@list.take(@small)",
		"list(@int, @int)", "@list.select($ + @int)", "[@int, @int]", "range(@small)", "@str.split(@lit).select(len($))",
	}},
	"bool": {leaves: []string{"true", "false", "$.t"}, nodes: []string{
		"(@num = @num)", "(@num != @num)", "(@num < @num)", "(@num >= @num)", "(@str = @str)", "(@str < @str)",
		"(@bool and @bool)", "(@bool or @bool)", "not @bool", "(@int in @list)", "@str.startsWith(@lit)",
		"(@list.len() > 0)", "@list.contains(@int)",
	}},
	"any": {leaves: []string{"null", "$.d", "$.users", "$.n"}, nodes: []string{
		"@list", "@str", "@num", "@bool", "{'a' => @any, 'b' => @int}", "[@any, @any]", "$.users.select($.name)",
		"$.users.where($.age > @int).select($.name)", "$.d.get(@lit)", "$.d.c.x", "@any[@small]",
		"(@any = @any)", "(@any + @any)",
	}},
}}

var jinjaGrammar = exprGrammar{lang: "jinja", open: "{{ ", shut: " }}", rules: map[string]exprRule{
	"lit":   {leaves: litLeaves},
	"small": {leaves: smallLeaves},
	"int": {leaves: with(intLeaves, "_.i", "_.neg"), nodes: []string{
		"(@int + @int)", "(@int - @int)", "(@int * @int)", "(@int // @int)", "(@int % @int)", "(-@int)",
		"(@int ** @small)", "@str|length", "@list|length", "@list|sum", "@list|max", "@list|min", "@list|first",
		"@list|last", "@int|abs", "@float|int", "@list[@small]", "@str.count(@lit)", "@str.find(@lit)",
	}},
	"float": {leaves: with(floatLeaves, "_.f"), nodes: []string{
		"(@num / @num)", "(@float + @num)", "(@float * @int)", "(@float - @float)", "@int|float", "@float|abs",
		"@float|round", "@float|round(1)", "_.fs|sum", "(-@float)", "(@float ** @small)",
	}},
	"num": {leaves: []string{"1", "2.5"}, nodes: []string{"@int", "@float"}},
	"str": {leaves: with(strLeaves, "_.s", "_.u"), nodes: []string{
		"(@str ~ @str)", "(@str + @str)", "@str|upper", "@str|lower", "@str.upper()", "@str.strip()", "@str|trim",
		"@str|replace(@lit, @lit)", "@str.split(@lit)|join(@lit)", "@list|join(@lit)", "@num|string",
		"@str|capitalize", "@str|title", "@str[@small]", "@str[@small:]", "(@str * @small)", "@str|reverse",
		"@str|center(9)", "@str.zfill(6)", "_.users[@small].name", "(@num ~ @str)",
	}},
	"list": {leaves: []string{"[]", "[1, 2, 3]", "_.xs", "[-1, 0, 5]"}, nodes: []string{
		"@list|sort", "@list|sort(reverse=true)", "@list|reverse|list", "@list|unique|list", "(@list + @list)",
		"@list[@small:]", "@list[::-1]", "range(@small)|list", "@list|map('abs')|list", "@list|select('odd')|list",
		"@list|reject('even')|list", "_.users|map(attribute='age')|list", "[@int, @int]", "@str.split(@lit)|map('length')|list",
		"[@int if @bool]", "(@list if @bool else @list)|list",
	}},
	"bool": {leaves: []string{"True", "False", "_.t"}, nodes: []string{
		"(@num == @num)", "(@num != @num)", "(@num < @num)", "(@num >= @num)", "(@str == @str)", "(@str < @str)",
		"(@bool and @bool)", "(@bool or @bool)", "(not @bool)", "(@int in @list)", "(@lit in @str)",
		"@str.startswith(@lit)", "(@int is even)", "(@any is number)", "(@any is string)", "(@any is none)",
	}},
	"any": {leaves: []string{"None", "_.d", "_.users", "_.n"}, nodes: []string{
		"@list", "@str", "@num", "@bool", "{'a': @any, 'b': @int}", "[@any, @any]", "_.users|map(attribute='name')|list",
		"_.users|selectattr('age', 'gt', @int)|map(attribute='name')|list", "_.d.get(@lit)", "_.d.c.x", "@any[@small]",
		"(@any == @any)", "(@any + @any)", "@list|batch(2)|list", "@any|tojson",
		// Conditionals, one unparenthesized so that where it ends is tested too.
		"@any if @bool else @any", "(@int if @any else @str)",
	}},
}}
