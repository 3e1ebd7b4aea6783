package yaql

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/value"
)

type tcase struct {
	expr string
	data any
	want any    // compared after value.Normalize, with exact types (1 is not 1.0)
	err  string // when set, Eval (or Compile) must fail with a message containing it
}

// l and d build test data tersely.
func l(items ...any) []any { return items }

type d = map[string]any

// mistralData and servers are the fixtures of
// mistral/tests/unit/expressions/test_yaql_expression.py.
var mistralData = d{
	"server": d{"id": "03ea824a-aa24-4105-9131-66c48ae54acf", "name": "cloud-fedora", "status": "ACTIVE"},
	"status": "OK",
}

var servers = d{"servers": l(d{"name": "centos"}, d{"name": "ubuntu"}, d{"name": "fedora"})}

var cases = []tcase{
	// mistral/tests/unit/expressions/test_yaql_expression.py
	{expr: "$.server", data: mistralData, want: mistralData["server"]},
	{expr: "$.server.id", data: mistralData, want: "03ea824a-aa24-4105-9131-66c48ae54acf"},
	{expr: "$.server.status = 'ACTIVE'", data: mistralData, want: true},
	{expr: "$.status = 'Invalid value'", data: mistralData, want: false},
	{expr: "$.wrong_key", data: mistralData, err: `key "wrong_key" not found`},
	{expr: "invalid_expression_string", data: mistralData, want: "invalid_expression_string"},
	{expr: "$.servers.where($.name = ubuntu)", data: servers, want: l(d{"name": "ubuntu"})},
	{expr: "str($)", data: "3", want: "3"},
	{expr: "str($)", data: 3, want: "3"},
	{expr: "len($)", data: "hey", want: 3},
	{expr: "$.where($.some = thing).len()", data: l(d{"some": "thing"}), want: 1},
	{expr: "$.a1 * $.a2", data: d{"a1": 6, "a2": 7}, want: 42},
	{expr: "*", err: "expected an expression"},
	{expr: "json_pp($)", data: "3", want: `"3"`},
	{expr: "json_dump($)", data: 3, want: "3"},
	{expr: "json_dump($)", data: l(1, 2), want: "[\n    1,\n    2\n]"},
	{expr: "json_dump($)", data: d{"a": "b"}, want: "{\n    \"a\": \"b\"\n}"},
	{expr: "json_dump($)", data: "Mistral\nis\nawesome", want: `"Mistral\nis\nawesome"`},
	{expr: "$.my_list.toSet()", data: d{"my_list": l(d{"k1": "v1"}, d{"k11": "v11"}, d{"k1": "v1"})}, want: l(d{"k1": "v1"}, d{"k11": "v11"})},
	// mistral/tests/unit/expressions/test_yaql_json_serialization.py (json_parse round trip)
	{expr: "json_parse($)", data: `{"a": [1, 2.5, null, true]}`, want: d{"a": l(1, 2.5, nil, true)}},
	{expr: "json_parse(json_dump($)) = $", data: d{"a": l(1, d{"b": "c"})}, want: true},
	{expr: "json_parse('{bad')", err: "json_parse()"},

	// yaql/tests/test_arithmetic.py
	{expr: "abc", want: "abc"},
	{expr: "'100'", want: "100"},
	{expr: "-10", want: -10},
	{expr: "15+5", want: 20},
	{expr: "15+10-5*2+10/2", want: 20},
	{expr: "5/2", want: 2},
	{expr: "-7/2", want: -4},
	{expr: "6/2", want: 3},
	{expr: "5.0 * 2", want: 10.0},
	{expr: "5/2.0", want: 2.5},
	{expr: "20 + -5", want: 15},
	{expr: "-20 - +5", want: -25},
	{expr: "7 mod 3", want: 1},
	{expr: "-7 mod 3", want: 2},
	{expr: "7.5 mod 2", want: 1.5},
	{expr: "1 / 0", err: "division by zero"},
	{expr: "1 mod 0", err: "modulo by zero"},
	{expr: "9223372036854775807 + 1", err: "integer overflow"},
	{expr: "3037000500 * 3037000500", err: "integer overflow"},
	{expr: "(1 + 2) * 3", want: 9},
	{expr: "2 * 3 + 4 * 5", want: 26},
	{expr: "1 - 2 - 3", want: -4},

	// yaql/tests/test_boolean.py
	{expr: "true and true", want: true},
	{expr: "true and false", want: false},
	{expr: "true and 12", want: 12},
	{expr: "null and null", want: nil},
	{expr: "false or true", want: true},
	{expr: "12 or true", want: 12},
	{expr: "null or null", want: nil},
	{expr: "not true", want: false},
	{expr: "not 0", want: true},
	{expr: "not ''", want: true},
	{expr: "not True", want: false}, // True is a bare word: the string "True"
	{expr: "not null", want: true},
	{expr: "$ or 10/($-1)", data: 1, want: 1},
	{expr: "$ and 10/$", data: 0, want: 0},
	{expr: "false != true", want: true},
	{expr: "not 1 = 2", want: true},
	{expr: "true or false and false", want: true},

	// yaql/tests/test_common.py
	{expr: "null", want: nil},
	{expr: "True", want: "True"},
	{expr: "null = null", want: true},
	{expr: "null <= null", want: true},
	{expr: "null < null", want: false},
	{expr: "null < 0", want: true},
	{expr: "null < a", want: true},
	{expr: "0 > null", want: true},
	{expr: "null = false", want: false},
	{expr: "max(1, 5)", want: 5},
	{expr: "max(null, -1)", want: -1},
	{expr: "min(null, -1)", want: nil},
	{expr: "a = 1", want: false},
	{expr: "[a] != [false]", want: true},
	{expr: "a != null", want: true},
	{expr: "1 = 1.0", want: true},
	{expr: "$.x > 3", data: d{"x": "4"}, err: `cannot compare string with int in "$.x > 3"`},

	// yaql/tests/test_strings.py
	{expr: `'some \ttext'`, want: "some \ttext"},
	{expr: `"some \"text\""`, want: `some "text"`},
	{expr: "`c:\\f\\x`", want: `c:\f\x`},
	{expr: "len(abc)", want: 3},
	{expr: "qq.toUpper()", want: "QQ"},
	{expr: "Привет.toUpper()", want: "ПРИВЕТ"},
	{expr: "'straße'.toUpper()", want: "STRASSE"}, // Python's full case mapping
	{expr: "'ΣΑΣ'.toLower()", want: "σας"},
	{expr: "QQ.toLower()", want: "qq"},
	{expr: "a = a", want: true},
	{expr: "isString(abc)", want: true},
	{expr: "isString(null)", want: false},
	{expr: "isString(123)", want: false},
	{expr: `$.split('\n')`, data: "some\ntext", want: l("some", "text")},
	{expr: "$.split()", data: "  a  b c ", want: l("a", "b", "c")},
	{expr: "$.split(',', 1)", data: "a,b,c", want: l("a", "b,c")},
	{expr: "[some, text].join('-')", want: "some-text"},
	{expr: "'-'.join([some, text])", want: "some-text"},
	{expr: "isEmpty('')", want: true},
	{expr: "isEmpty(null)", want: true},
	{expr: "null.isEmpty()", want: true},
	{expr: "isEmpty('  x')", want: false},
	{expr: "ABBD.replace(B, x)", want: "AxxD"},
	{expr: "ABxD.replace(B, x, 1)", want: "AxxD"},
	{expr: "AxyD.replace({x => z, y => 1})", want: "Az1D"},
	{expr: "B in ABC", want: true},
	{expr: "D in ABC", want: false},
	{expr: "str(null)", want: "null"},
	{expr: "str(true)", want: "true"},
	{expr: "str('12')", want: "12"},
	{expr: "[text, 1, null, true].select(str($)).join('-')", want: "text-1-null-true"},
	{expr: "a +b + c", want: "abc"},
	{expr: "concat(a, b, c)", want: "abc"},
	{expr: "'{0}->{x}'.format(a, x => b)", want: "a->b"},
	{expr: "format('{0}->{x}', a, x => b)", want: "a->b"},
	{expr: "'{:.2f}|{:>4}|{{}}'.format(3.14159, 7)", want: "3.14|   7|{}"},
	{expr: "'  x  '.trim()", want: "x"},
	{expr: "'abxba'.trim(ab)", want: "x"},
	{expr: "'  x  '.trimLeft()", want: "x  "},
	{expr: "'abxba'.trimRight(ab)", want: "abx"},
	{expr: "x * 3", want: "xxx"},
	{expr: "3 * x", want: "xxx"},
	{expr: "$.substring(2)", data: "abcdef", want: "cdef"},
	{expr: "$.substring(-2)", data: "abcdef", want: "ef"},
	{expr: "$.substring(2, 3)", data: "abcdef", want: "cde"},
	{expr: "$.substring(1, -1)", data: "abcdef", want: "bcdef"},
	{expr: "$.indexOf(c)", data: "abcdefedcba", want: 2},
	{expr: "$.indexOf(x)", data: "abcdefedcba", want: -1},
	{expr: "$.indexOf(f, 3)", data: "abcdefedcba", want: 5},
	{expr: "$.lastIndexOf(c)", data: "abcdefedcbabc", want: 12},
	{expr: "max(a, z)", want: "z"},
	{expr: "abc.toCharArray()", want: l("a", "b", "c")},
	{expr: "ABC.startsWith(A)", want: true},
	{expr: "ABC.startsWith(B, A)", want: true},
	{expr: "ABC.startsWith(C)", want: false},
	{expr: "ABC.startsWith(null)", err: "expects a string"},
	{expr: "ABC.endsWith(B, C)", want: true},
	{expr: "'a' + 1", err: "cannot apply + to string and int"},

	// yaql/tests/test_queries.py
	{expr: "$.where($ > 3)", data: l(1, 2, 3, 4, 5, 6), want: l(4, 5, 6)},
	{expr: "$.select($ * $)", data: l(1, 2, 3), want: l(1, 4, 9)},
	{expr: "$.a", data: l(d{"a": 2}, d{"a": 4}), want: l(2, 4)},
	{expr: "$.select($).a", data: l(d{"a": 2}, d{"a": 4}), want: l(2, 4)},
	{expr: "$.skip(1)", data: l(1, 2, 3, 4), want: l(2, 3, 4)},
	{expr: "$.limit(2)", data: l(1, 2, 3, 4), want: l(1, 2)},
	{expr: "$.take(2)", data: l(1, 2, 3, 4), want: l(1, 2)},
	{expr: "$.append(3, 4)", data: l(1, 2), want: l(1, 2, 3, 4)},
	{expr: "$.where($ < 4).select($ * $).skip(1).limit(1)", data: l(1, 2, 3, 4, 5, 6), want: l(4)},
	{expr: "$.distinct()", data: l(1, 2, 3, 2, 4, 8), want: l(1, 2, 3, 4, 8)},
	{expr: "distinct($)", data: l(1, 2, 3, 2, 4, 8), want: l(1, 2, 3, 4, 8)},
	{expr: "$.distinct()", data: l(d{"a": 1}, d{"b": 2}, d{"a": 1}), want: l(d{"a": 1}, d{"b": 2})},
	{expr: "$.distinct($[1])", data: l(l("a", 1), l("b", 2), l("c", 1), l("d", 3), l("e", 2)), want: l(l("a", 1), l("b", 2), l("d", 3))},
	{expr: "[1, 1.0, 2].distinct()", want: l(1, 2)},
	{expr: "$.any()", data: l(), want: false},
	{expr: "$.any()", data: l(0), want: true}, // yaql 3.2.0: any() without a predicate is "not empty"
	{expr: "[null, false].any()", want: true},
	{expr: "1 = true", want: true}, // Python: True == 1
	{expr: "0 = false", want: true},
	{expr: "$.all()", data: l(), want: true},
	{expr: "$.all($ > 1)", data: l(2, 1), want: false},
	{expr: "$.enumerate(3)", data: l(1, 2, 3), want: l(l(3, 1), l(4, 2), l(5, 3))},
	{expr: "$.select($).concat($.select(2 * $))", data: l(1, 2, 3), want: l(1, 2, 3, 2, 4, 6)},
	{expr: "concat($, $.select(2 * $), $)", data: l(1, 2, 3), want: l(1, 2, 3, 2, 4, 6, 1, 2, 3)},
	{expr: "$.len()", data: l(1, 2, 3), want: 3},
	{expr: "$.count()", data: l(1, 2, 3), want: 3},
	{expr: "$.count($ > 1)", data: l(1, 2, 3), want: 2},
	{expr: "$.sum()", data: l(0, 1, 2, 3), want: 6},
	{expr: "$.sum(100)", data: l(0, 1, 2, 3), want: 106},
	{expr: "[].sum(100)", want: 100},
	{expr: "[1, 2.5].sum()", want: 3.5},
	{expr: "list(2, 3).first()", want: 2},
	{expr: "list(2, 3).select($ * 2).first()", want: 4},
	{expr: "list().first(null)", want: nil},
	{expr: "list().first()", err: "empty list"},
	{expr: "list().first(99)", want: 99},
	{expr: "list(2).single()", want: 2},
	{expr: "list(2, 3).last()", want: 3},
	{expr: "list().last(99)", want: 99},
	{expr: "range(2)", want: l(0, 1)},
	{expr: "range(1, 4)", want: l(1, 2, 3)},
	{expr: "range(4, 1, -1)", want: l(4, 3, 2)},
	{expr: "range(0, 10, 3)", want: l(0, 3, 6, 9)},
	{expr: "range(4).selectMany(range($))", want: l(0, 0, 1, 0, 1, 2)},
	{expr: "range(2).selectMany(xx)", want: l("xx", "xx")},
	{expr: "$.orderBy($)", data: l(4, 2, 1, 3), want: l(1, 2, 3, 4)},
	{expr: "$.orderByDescending($)", data: l(4, 2, 1, 3), want: l(4, 3, 2, 1)},
	{expr: "$.orderBy($.n).select($.id)", data: l(d{"id": "b", "n": 2}, d{"id": "a", "n": 1}), want: l("a", "b")},
	{expr: "$.sort()", data: l("b", "c", "a"), want: l("a", "b", "c")},
	// union, intersect, difference, mergeWith, insert, replaceBy, round:
	// yaql's docstring examples; yaml_dump/yaml_parse as Mistral's.
	{expr: "[1, 2].union([2, 3])", want: l(1, 2, 3)},
	{expr: "[1, 1, 2].union([2, 3], [4])", want: l(1, 2, 3, 4)},
	{expr: "[1, 2, 3].intersect([2, 3, 4, 3])", want: l(2, 3)},
	{expr: "[1, 2, 3, 1].difference([2])", want: l(1, 3)},
	{expr: "{a => 1, b => 2, c => [1, 2]}.mergeWith({d => 5, b => 3, c => [2, 3]})",
		want: d{"a": 1, "b": 3, "c": l(1, 2, 3), "d": 5}},
	{expr: "{a => {x => 1, y => 1}}.mergeWith({a => {y => 2}})", want: d{"a": d{"x": 1, "y": 2}}},
	{expr: "{a => 1}.mergeWith(2)", err: "needs a dict"},
	{expr: "[1, 2].insert(0, 9)", want: l(9, 1, 2)},
	{expr: "[1, 2].insert(5, 9)", want: l(1, 2, 9)},
	{expr: "'ab'.replaceBy(regex('b'), 'x')", want: "ax"},
	{expr: "'a1b22'.replaceBy(regex('[0-9]+'), str($.value.len()))", want: "a1b2"},
	{expr: "regex('[0-9]').replaceBy('a1b2', '#', 1)", want: "a#b2"},
	{expr: "regex('[0-9]').replaceBy('a1b2', '#', 0)", want: "a#b#"},
	{expr: "round(2.5)", want: 2.0},
	{expr: "round(3.5)", want: 4.0},
	{expr: "round(2.675, 2)", want: 2.67},
	{expr: "round(3.14159, 2)", want: 3.14},
	{expr: "round(7)", want: 7},
	{expr: "yaml_dump({a => 1})", want: "a: 1\n"},
	{expr: "yaml_parse('a: [1, x]')", want: d{"a": l(1, "x")}},
	// PyYAML's safe_load reads YAML 1.1: plain yes/no/on/off are booleans, quoted ones strings.
	{expr: "yaml_parse('a: yes\\nb: \"no\"\\nc: [On, OFF, y]')", want: d{"a": true, "b": "no", "c": l(true, false, "y")}},
	{expr: "uuid().len()", want: 36},
	// thenBy / thenByDescending: the examples of yaql's queries.py docstrings.
	{expr: "[[1, 'c'], [2, 'b'], [3, 'c'], [0, 'd']].orderBy($[1]).thenBy($[0])",
		want: l(l(2, "b"), l(1, "c"), l(3, "c"), l(0, "d"))},
	{expr: "[[3, 'c'], [2, 'b'], [1, 'c']].orderBy($[1]).thenByDescending($[0])",
		want: l(l(2, "b"), l(3, "c"), l(1, "c"))},
	{expr: "$.orderByDescending($.a).thenBy($.b).thenByDescending($.c).select($.id)",
		data: l(d{"id": 1, "a": 1, "b": 1, "c": 1}, d{"id": 2, "a": 2, "b": 2, "c": 1}, d{"id": 3, "a": 2, "b": 1, "c": 1},
			d{"id": 4, "a": 2, "b": 1, "c": 2}, d{"id": 5, "a": 1, "b": 0, "c": 0}),
		want: l(4, 3, 2, 5, 1)},
	{expr: "[2, 1].orderBy($).thenBy($)", want: l(1, 2)},
	{expr: "list().orderBy($).thenBy($)", want: l()},
	{expr: "[2, 1].thenBy($)", err: "thenBy() applies to the result of orderBy()"},
	{expr: "[2, 1].orderBy($).select($).thenBy($)", err: "thenBy() applies to the result of orderBy()"},
	{expr: "[1, a].orderBy($)", err: "cannot compare"},
	{expr: "$.items().orderBy($[0]).groupBy($[1], $[0])", data: d{"a": 1, "b": 2, "c": 1, "d": 3, "e": 2},
		want: l(l(1, l("a", "c")), l(2, l("b", "e")), l(3, l("d")))},
	{expr: "[1, 2, 3].zip([4, 5])", want: l(l(1, 4), l(2, 5))},
	{expr: "[1, 2, 3, 4, 5].takeWhile($ < 4)", want: l(1, 2, 3)},
	{expr: "[1, 2, 3, 4, 5].skipWhile($ < 4)", want: l(4, 5)},
	{expr: "[1, 2, 3, 2, 1].indexOf(2)", want: 1},
	{expr: "[1, 2, 3, 2, 1].indexOf(22)", want: -1},
	{expr: "[1, 2, 3, 2, 1].lastIndexOf(2)", want: 3},
	{expr: "[1, 2, 3, 2, 1].indexWhere($ = 2)", want: 1},
	{expr: "[1,2,3,4,5].slice(2)", want: l(l(1, 2), l(3, 4), l(5))},
	{expr: "[a,a,b,a,a].aggregate($1 + $2)", want: "aabaa"},
	{expr: "[].aggregate($1 + $2, 1)", want: 1},
	{expr: "[].reduce(max($1, $2), 0)", want: 0},
	{expr: "[].defaultIfEmpty([1, 2])", want: l(1, 2)},
	{expr: "[3, 4].defaultIfEmpty([1, 2])", want: l(3, 4)},
	{expr: "[].max(0)", want: 0},
	{expr: "[].max()", err: "empty list"},
	{expr: "[44, 234, 23].max()", want: 234},
	{expr: "[44, 234, 23].min()", want: 23},
	{expr: "[[1, 2], [3, [4]]].flatten()", want: l(1, 2, 3, 4)},
	{expr: "[3, 1, 2].reverse()", want: l(2, 1, 3)},

	// yaql/tests/test_collections.py
	{expr: "list()", want: l()},
	{expr: "list(1, 2, list(3, 4))", want: l(1, 2, l(3, 4))},
	{expr: "[1,[2]][1] + [3, [4]][1]", want: l(2, 4)},
	{expr: "([1,2] + [3, 4])[1]", want: 2},
	{expr: "[]", want: l()},
	{expr: "$.toList()", data: l(0, 1, 2), want: l(0, 1, 2)},
	{expr: "isList($.keys().toList())", data: d{"a": 1, "b": 2}, want: true},
	{expr: "$[0]", data: l(1, 2, 3), want: 1},
	{expr: "$[-1]", data: l(1, 2, 3), want: 3},
	{expr: "$[-1-1]", data: l(1, 2, 3), want: 2},
	{expr: "$[3]", data: l(1, 2, 3), err: "out of range"},
	{expr: "$[-4]", data: l(1, 2, 3), err: "out of range"},
	{expr: "$[a]", data: l(1, 2, 3), err: "list index must be an integer"},
	{expr: "dict(a => 2, 'b c' => 13, 4 => 5, null => null, true => false, 2+6=>8)",
		want: value.MapFromPairs("a", 2, "b c", 13, "4", 5, "null", nil, "true", false, "8", 8)},
	// Dicts keep insertion order, as Python's do: literals, keys(), values(),
	// items(), set() (an update keeps its place), + and mergeWith.
	{expr: "{b => 1, a => 2, c => 3}.keys()", want: []any{"b", "a", "c"}},
	{expr: "{b => 1, a => 2}.values()", want: []any{1, 2}},
	{expr: "{b => 1, a => 2}.items()", want: []any{[]any{"b", 1}, []any{"a", 2}}},
	{expr: "{z => 1, a => 2}.set(z, 3).set(m, 4)", want: value.MapFromPairs("z", 3, "a", 2, "m", 4)},
	{expr: "{z => 1} + {b => 2, a => 3}", want: value.MapFromPairs("z", 1, "b", 2, "a", 3)},
	{expr: "{z => {y => 1}, a => 1}.mergeWith({z => {b => 2}, c => 3})", want: value.MapFromPairs("z", value.MapFromPairs("y", 1, "b", 2), "a", 1, "c", 3)},
	{expr: "$.values()", data: value.MapFromPairs("q", 1, "p", 2), want: []any{1, 2}},
	{expr: "yaml_parse('b: 1\na: {d: 1, c: 2}')", want: value.MapFromPairs("b", 1, "a", value.MapFromPairs("d", 1, "c", 2))},
	{expr: "json_parse('{\"b\": 1, \"a\": 2}').values()", want: []any{1, 2}},
	{expr: "[[b, 1], [a, 2]].toDict($[0], $[1]).values()", want: []any{1, 2}},
	{expr: "{a => 1} + {b=>2}", want: d{"a": 1, "b": 2}},
	{expr: "{}", want: d{}},
	{expr: "dict(list(list(a, 1), list('b', 2)))", want: d{"a": 1, "b": 2}},
	{expr: "$.toDict($, $*$)", data: l(1, 2, 3), want: d{"1": 1, "2": 4, "3": 9}},
	{expr: "$.A", data: d{"A": 12, "_e": 999}, want: 12},
	{expr: "$._e", data: d{"A": 12, "_e": 999}, want: 999},
	{expr: "$.'b c'", data: d{"b c": 1}, err: "expected a name"},
	{expr: "$.123", data: d{}, err: "expected a name"},
	{expr: "$.__d", data: d{"__d": 1}, err: "reserved"},
	{expr: "$[a]", data: d{"a": 12, "b c": 44}, want: 12},
	{expr: "$['b c']", data: d{"a": 12, "b c": 44}, want: 44},
	{expr: "$[b]", data: d{"a": 12}, err: `key "b" not found`},
	{expr: "$[c, 55]", data: d{"a": 12}, want: 55},
	{expr: "$[c, default => 66]", data: d{"a": 12}, want: 66},
	{expr: "[c, 55]=[c, 55]", want: true},
	{expr: "[c, 55]=[55, c]", want: false},
	{expr: "[c, 55]=null", want: false},
	{expr: "{a => [c, 55]} = {a => [c, 55]}", want: true},
	{expr: "$.get(a)", data: d{"a": 12}, want: 12},
	{expr: "$.get(b)", data: d{"a": 12}, want: nil},
	{expr: "$.get(c, 50)", data: d{"a": 12}, want: 50},
	// Mistral 23.0.0 (test_disabled_yaql_output_conversion): set() as a
	// function builds the set of its arguments.
	{expr: "set(15)", want: l(int64(15))},
	{expr: "set()", want: l()},
	{expr: "set(1, 2, 1)", want: l(int64(1), int64(2))},
	{expr: "set($, a, 1)", data: d{"a": 12}, want: d{"a": int64(1)}},
	{expr: "$.set(a, 99).set(x, null)", data: d{"a": 12, "b c": 44}, want: d{"a": 99, "b c": 44, "x": nil}},
	{expr: "$.set(dict(a => 55, \"d x\" => 99))", data: d{"a": 12}, want: d{"a": 55, "d x": 99}},
	{expr: "$.set(a => 55, \"d x\" => 99)", data: d{"a": 12, "b c": 44}, want: d{"a": 55, "b c": 44, "d x": 99}},
	{expr: "$.keys()", data: d{"b": 44, "a": 12}, want: l("a", "b")},
	{expr: "$.values()", data: d{"b": 44, "a": 12}, want: l(12, 44)},
	{expr: "$.items()", data: d{"b": 44, "a": 12}, want: l(l("a", 12), l("b", 44))},
	{expr: "dict($.items())", data: d{"b": 44, "a": 12}, want: d{"a": 12, "b": 44}},
	{expr: "44 in $.values()", data: d{"a": 12, "b": 44}, want: true},
	{expr: "24 in $.values().select(2*$)", data: d{"a": 12, "b": 44}, want: true},
	{expr: "5 in [1, 2, 5]", want: true},
	{expr: "a in $", data: d{"a": 12}, err: "cannot test whether a string is in a dict"},
	{expr: "$.containsKey(a)", data: d{"a": 12}, want: true},
	{expr: "$.containsKey(null)", data: d{"a": 12}, want: false},
	{expr: "$.values().contains(44)", data: d{"a": 12, "b": 44}, want: true},
	{expr: "[1, 2, 5].contains(5)", want: true},
	{expr: "list(1, 2) + list(3, 4).select($ * 2)", want: l(1, 2, 6, 8)},
	{expr: "dict(a => 1) + dict(b => 2)", want: d{"a": 1, "b": 2}},
	{expr: "3 * [1, 2]", want: l(1, 2, 1, 2, 1, 2)},
	{expr: "[1, 2, 3, 4].delete(0)", want: l(2, 3, 4)},
	{expr: "[1, 2, 3, 4].delete(1, -1)", want: l(1)},
	{expr: "$.delete(b, c)", data: d{"a": 1, "b": 2, "c": 3, "d": 4}, want: d{"a": 1, "d": 4}},
	{expr: "[1, 2, 3, 4].replace(0, null)", want: l(nil, 2, 3, 4)},
	{expr: "[1, 2, 3, 4].replace(1, 7, -1)", want: l(1, 7)},

	// yaql/tests/test_branching.py
	{expr: "switch($ < 10 => 1, $ >= 10 and $ < 100 => 2, $ >= 100 => 3)", data: 123, want: 3},
	{expr: "switch($ < 10 => 1, $ >= 10 and $ < 100 => 2, $ >= 100 => 3)", data: 50, want: 2},
	{expr: "switch($ < 10 => 1, $ >= 10 and $ < 100 => 2, $ >= 100 => 3)", data: -123, want: 1},
	{expr: "switch($ > 0 => a)", data: -1, want: nil},
	{expr: "coalesce($, 2)", data: nil, want: 2},
	{expr: "coalesce($, 2)", data: 1, want: 1},
	{expr: "coalesce($)", data: nil, want: nil},

	// yaql/tests/test_system.py and test_contexts.py (let / ->)
	{expr: "let(x => 1, y => 2) -> $x + $y", want: 3},
	{expr: "let(2, 3) -> $1 * $2", want: 6},
	{expr: "let(a => $.x) -> let(b => $a * 2) -> [$a, $b]", data: d{"x": 5}, want: l(5, 10)},
	{expr: "$.x.let(k => 1) -> $ + $k", data: d{"x": 5}, want: 6},
	{expr: "let(x => 1)", err: "must be followed by ->"},
	{expr: "1 -> 2", err: "left side of -> must be let"},
	{expr: "$?.a", data: d{"a": 1}, want: 1},
	{expr: "$?.a", data: nil, want: nil},
	{expr: "$?.select($+1)", data: l(1, 2), want: l(2, 3)},
	{expr: "$?.select($+1)", data: nil, want: nil},
	{expr: "$.a", data: nil, err: "cannot read key \"a\" of null"},
	{expr: "$undefinedVar", want: nil},

	// yaql/tests/test_regex.py
	{expr: "regex(`a.b`).matches(axb)", want: true},
	{expr: "regex(`a.b`).matches(abx)", want: false},
	{expr: "axb =~ 'a.b'", want: true},
	{expr: "axb !~ 'a.b'", want: false},
	{expr: "'xaxbx'.matches('a.b')", want: true},
	{expr: "regex('(\\d+)').search('ab12cd')", want: "12"},
	{expr: "regex('(\\d+)').replace('ab12cd', '<\\1>')", want: "ab<12>cd"},
	{expr: "regex('(')", err: "invalid regular expression"},

	// Conversions (yaql/tests/test_type_aggregation.py, test_math.py)
	{expr: "int('12')", want: 12},
	{expr: "int(3.9)", want: 3},
	{expr: "int(null)", want: 0},
	{expr: "int(abc)", err: `int() cannot convert "abc"`},
	{expr: "float(2)", want: 2.0},
	{expr: "float('1.5')", want: 1.5},
	{expr: "bool([])", want: false},
	{expr: "bool(x)", want: true},
	{expr: "isNumber(1.5) and isInteger(1) and not isInteger(1.5)", want: true},
	{expr: "isDict({}) and isList([]) and isBoolean(false)", want: true},
	{expr: "abs(-3)", want: 3},

	// Mistral workflow idioms (mistral/tests/unit/engine/test_dataflow.py,
	// test_direct_workflow.py, test_with_items.py)
	{expr: "task(t1).result", data: nil, want: d{"items": l(1, 2, 3)}},
	{expr: "task('t1').result.items.len()", want: 3},
	{expr: "task().name", want: "current"},
	{expr: "task(missing).result", err: "task(): no task missing"},
	{expr: "$.hi + ' ' + $.to", data: d{"hi": "Hello", "to": "Morpheus"}, want: "Hello Morpheus"},
	{expr: "$.vm_info.where($.status = ACTIVE).select($.id)", data: d{"vm_info": l(d{"id": 1, "status": "ACTIVE"}, d{"id": 2, "status": "ERROR"})}, want: l(1)},
	{expr: "len($.items) > 0 and $.items[0] != null", data: d{"items": l(7)}, want: true},
	{expr: "not $.x in [1, 2]", data: d{"x": 3}, want: true},
	{expr: "$.result.keys().len() = 2", data: d{"result": d{"a": 1, "b": 2}}, want: true},
	{expr: "str($.n) + ' items'", data: d{"n": 3}, want: "3 items"},
	{expr: "$.names.join(', ')", data: d{"names": l("John", "Ivan")}, want: "John, Ivan"},
	{expr: "nosuchfn()", err: "unknown function nosuchfn()"},
	{expr: "now()", err: "now() is not available"},
	{expr: "$.foo()", data: d{}, err: "unknown method foo() on a dict"},
}

func hostFuncs() map[string]Func {
	return map[string]Func{
		"task": func(args []any) (any, error) {
			if len(args) == 0 {
				return d{"name": "current"}, nil
			}
			if args[0] != "t1" {
				return nil, errors.New("no task " + value.String(args[0]))
			}
			return d{"result": d{"items": l(int64(1), int64(2), int64(3))}}, nil
		},
	}
}

func TestTable(t *testing.T) {
	if len(cases) < 150 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		got, err := Eval(c.expr, &Env{Data: value.Normalize(c.data), Funcs: hostFuncs()})
		if c.err != "" {
			if err == nil {
				t.Errorf("%s: got %#v, want error containing %q", c.expr, got, c.err)
			} else if !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %q does not contain %q", c.expr, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: unexpected error: %v", c.expr, err)
			continue
		}
		if want := value.Normalize(c.want); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", c.expr, got, want)
		}
	}
}
