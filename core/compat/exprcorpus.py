"""Build the expression corpus of the differential tier.

Every `yaql>` example in the docstrings of yaql's standard library (the
installed yaql 3.2.0, whose package directory is the first argument), then
Jinja2's documented filters, tests and statements, Mistral's functions and
edge cases (unicode, big and negative numbers, floats, None, empty and nested
collections, ordering), each one a Mistral string value. Cases whose result
changes from run to run (clocks, random, uuid) are left out.

Usage: exprcorpus.py YAQL_PACKAGE_DIR OUT_JSON
The output is core/compat/corpus/expressions.json:
{"context": the data every case sees, "cases": [{"id", "lang", "expr"}]}.
"""

import json
import os
import re
import sys

NONDETERMINISTIC = re.compile(r"now\(|localtz|random|uuid|utctz|today")


def yaql_docs(pkg):
    out = []
    lib = os.path.join(pkg, "standard_library")
    for name in sorted(os.listdir(lib)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(lib, name), encoding="utf-8") as f:
            lines = f.read().splitlines()
        n = 0
        for i, line in enumerate(lines):
            m = re.match(r"\s*yaql>\s*(.*)$", line)
            if not m:
                continue
            e = m.group(1)
            # An example wrapped over several lines goes on until its brackets close.
            j = i + 1
            while unbalanced(e) and j < len(lines):
                e += " " + lines[j].strip()
                j += 1
            if NONDETERMINISTIC.search(e):
                continue
            n += 1
            out.append(("yaql-doc:%s:%d" % (name[:-3], n), "yaql", e))
    return out


def unbalanced(e):
    depth, quote = 0, None
    for ch in e:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
    return depth > 0


# Operands of the arithmetic and comparison grid, as written in each language.
OPERANDS = [
    ("7", "7"), ("-7", "-7"), ("2", "2"), ("0", "0"), ("2.5", "2.5"),
    ("9223372036854775807", "9223372036854775807"), ("true", "True"), ("null", "None"), ("'ab'", "'ab'"),
]
OPS = ["+", "-", "*", "/", "mod", "//", "**", "=", "!=", "<", ">=", "and", "or"]
JINJA_OPS = {"mod": "%", "=": "=="}
YAQL_OPS = {"//": None, "**": None}


def grid():
    out = []
    for op in OPS:
        for i, (ya, ja) in enumerate(OPERANDS):
            for j, (yb, jb) in enumerate(OPERANDS):
                if (i + j) % 2 and op not in ("/", "//", "mod"):
                    continue  # half the pairs keep the grid proportionate
                if op == "**" and yb == "9223372036854775807":
                    continue  # Python computes 7 ** (2**63-1) digit by digit: no answer to compare
                yop = YAQL_OPS.get(op, op)
                if yop:
                    out.append(("grid-yaql:%s:%d:%d" % (op, i, j), "yaql", "%s %s %s" % (ya, yop, yb)))
                jop = JINJA_OPS.get(op, op)
                out.append(("grid-jinja:%s:%d:%d" % (op, i, j), "jinja", "%s %s %s" % (ja, jop, jb)))
    return out


# Values the Jinja filters and tests are applied to: context paths and literals.
JINJA_VALUES = [
    "_.s", "_.u", "_.xs", "_.fs", "_.empty", "_.d", "_.users", "_.n", "_.i", "_.neg", "_.f",
    "'  pad me  '", "'Hello World'", "[3, 1, 2]", "[]", "{}", "'héllo wörld'", "-3.5", "2.675", "0",
]
JINJA_FILTERS = [
    "abs", "attr('x')", "batch(2)", "capitalize", "center(11)", "count", "default('x')",
    "default('x', true)", "dictsort", "escape", "filesizeformat", "first", "float", "forceescape",
    "format", "groupby('age')", "indent(2)", "int", "items", "join", "join(', ')", "last", "length",
    "list", "lower", "map('upper')", "map(attribute='name')", "max", "min", "max(attribute='age')",
    "pprint", "reject('odd')", "rejectattr('age')", "replace('l', 'L')", "reverse", "round",
    "round(1)", "round(1, 'floor')", "safe", "select('odd')", "selectattr('age', 'gt', 30)", "slice(2)",
    "sort", "sort(reverse=true)", "sort(attribute='age')", "string", "striptags", "sum",
    "sum(start=10)", "sum(attribute='age')", "title", "tojson", "trim", "truncate(5)", "unique",
    "upper", "urlencode", "wordcount", "wordwrap(5)", "xmlattr", "json_dump", "yaml_dump",
]
JINJA_TESTS = [
    "defined", "undefined", "none", "number", "string", "sequence", "mapping", "iterable",
    "integer", "float", "boolean", "true", "false", "lower", "upper", "odd", "even",
    "divisibleby(3)", "sameas(none)", "in([1, 2, 3])", "callable", "escaped", "eq(7)", "ne(7)",
    "lt(3)", "gt(3)", "le(3)", "ge(3)",
]


def jinja_filters():
    out = []
    for f in JINJA_FILTERS:
        for k, v in enumerate(JINJA_VALUES):
            if k % 2 and f not in ("length", "first", "sort", "sum", "join", "upper", "default('x')"):
                continue
            out.append(("jinja-filter:%s:%d" % (f, k), "jinja", "%s | %s" % (v, f)))
    for t in JINJA_TESTS:
        for k, v in enumerate(JINJA_VALUES):
            if k % 2:
                continue
            out.append(("jinja-test:%s:%d" % (t, k), "jinja", "%s is %s" % (v, t)))
            if k == 0:
                out.append(("jinja-test:not-%s" % t, "jinja", "%s is not %s" % (v, t)))
    return out


STRING_METHODS = [
    "upper()", "lower()", "title()", "capitalize()", "swapcase()", "strip()", "lstrip()",
    "rstrip()", "strip('h')", "split()", "split('l')", "split('l', 1)", "rsplit('l', 1)",
    "replace('l', 'L')", "replace('l', 'L', 1)", "startswith('h')", "endswith('o')", "find('l')",
    "rfind('l')", "index('l')", "count('l')", "center(11, '*')", "ljust(8, '.')", "rjust(8, '.')",
    "zfill(8)", "isdigit()", "isalpha()", "islower()", "isupper()", "isspace()", "partition('l')",
    "rpartition('l')", "splitlines()", "encode('utf-8') | length", "join(['a', 'b'])",
    "casefold()", "expandtabs()",
]
STRINGS = ["'hello'", "'héllo'", "'straße'", "'ǅemo'", "'  hi  '", "''", "'a\\tb\\nc'", "'日本語'", "'ΣΑΣ'"]


def jinja_strings():
    out = []
    for m in STRING_METHODS:
        for k, s in enumerate(STRINGS):
            out.append(("jinja-str:%s:%d" % (m, k), "jinja", "%s.%s" % (s, m)))
    for k, s in enumerate(STRINGS):
        for i, idx in enumerate(["[0]", "[1]", "[-1]", "[1:3]", "[::-1]", "[10]"]):
            out.append(("jinja-index:%d:%d" % (k, i), "jinja", s + idx))
    return out


YAQL_STRINGS = ["'hello'", "'héllo'", "'straße'", "'  hi  '", "''", "'日本語'", "'ΣΑΣ'", "'a,b,,c'"]
YAQL_STRING_FUNCS = [
    "toUpper()", "toLower()", "len()", "trim()", "trimLeft()", "trimRight()", "split(',')",
    "split(',', 1)", "rightSplit(',', 1)", "indexOf('l')", "lastIndexOf('l')", "substring(1)",
    "substring(1, 2)", "replace('l', 'L')", "replace('l', 'L', 1)", "startsWith('h')",
    "endsWith('o')", "toCharArray()", "characters()", "concat('!')", "isEmpty()", "str()",
    "join(['x', 'y'])", "format(1)", "[0]", "[1]", "[-1]", "max()", "min()", "reverse()",
    "isString()", "toLower().toUpper()", "matches('l+')", "normalizeSpace()",
]


def yaql_strings():
    out = []
    for f in YAQL_STRING_FUNCS:
        for k, s in enumerate(YAQL_STRINGS):
            sep = "" if f.startswith("[") else "."
            out.append(("yaql-str:%s:%d" % (f, k), "yaql", s + sep + f))
    return out


YAQL_COLLECTIONS = ["[3, 1, 2]", "[]", "[1, [2, [3, []]]]", "$.xs", "$.users", "[null, 0, false, '']",
                    "{a => 1, b => 2}", "$.d", "$.od"]
YAQL_COLLECTION_FUNCS = [
    "len()", "count()", "sum()", "max()", "min()", "first()", "first(null)", "last()", "orderBy($)",
    "orderByDescending($)", "distinct()", "reverse()", "any()", "all()", "where($)", "select($)",
    "flatten()", "toList()", "toSet()", "keys()", "values()", "items()", "isList()", "isDict()",
    "sequence()", "skip(1)", "limit(1)", "indexOf(1)", "contains(1)", "join(',')", "str()",
    "set()", "dict()", "memorySize()", "groupBy($)", "enumerate()", "zip([1, 2, 3])",
    "aggregate($1 + $2, 0)", "selectMany($)", "isEmpty()", "toDict($, $)", "mergeWith({})",
]


def yaql_collections():
    out = []
    for f in YAQL_COLLECTION_FUNCS:
        for k, c in enumerate(YAQL_COLLECTIONS):
            out.append(("yaql-coll:%s:%d" % (f, k), "yaql", "%s.%s" % (c, f)))
    return out


MISTRAL = [
    ("yaql", "json_dump($.d)"), ("yaql", "json_dump([1, 'é', null, 2.5])"), ("yaql", "json_dump($.od)"),
    ("yaql", "json_parse('{\"a\": [1, 2.0, null]}')"), ("yaql", "json_parse('1.0')"),
    ("yaql", "yaml_dump($.d)"), ("yaql", "yaml_dump([1, 'yes', 'no', 1.0, null])"),
    ("yaql", "yaml_parse('a: yes\\nb: 1.0\\nc: [1, 2]')"), ("yaql", "yaml_parse('- on\\n- off\\n- ~')"),
    ("yaql", "json_dump($.users)"), ("yaql", "yaml_dump('multi\\nline')"), ("yaql", "yaml_dump({})"),
    ("jinja", "_.d | json_dump"), ("jinja", "json_dump(_.d)"), ("jinja", "_.od | json_dump"),
    ("jinja", "json_parse('[1, 2.5, \"x\"]')"), ("jinja", "yaml_parse('a: yes')"),
    ("jinja", "yaml_dump(_.users)"), ("jinja", "_.xs | yaml_dump"), ("jinja", "yaml_dump('yes')"),
    ("yaql", "str($.d)"), ("yaql", "str($.xs)"), ("yaql", "str(null)"), ("yaql", "str(true)"),
    ("yaql", "str(1.0)"), ("yaql", "str($.users)"), ("jinja", "_.d | string"), ("jinja", "_.xs | string"),
]

# Context paths, nesting, None, ordering and inline text.
EDGE = [
    ("yaql", "$.n"), ("yaql", "$.missing"), ("yaql", "$.d.c.x[1].y"), ("yaql", "$.d.c.x[5]"),
    ("yaql", "$.big + 1"), ("yaql", "$.big * 2"), ("yaql", "-$.big - 2"), ("yaql", "9223372036854775807 + 1"),
    ("yaql", "2 * 9223372036854775807"), ("yaql", "-9223372036854775808 - 1"), ("yaql", "10 ** 20"),
    ("yaql", "1e308 * 10"), ("yaql", "0.1 + 0.2"), ("yaql", "1 / 3.0"), ("yaql", "1.0"), ("yaql", "-0.0"),
    ("yaql", "float(7)"), ("yaql", "int(7.9)"), ("yaql", "int(-7.9)"), ("yaql", "round(2.5)"),
    ("yaql", "round(3.5)"), ("yaql", "round(2.675, 2)"), ("yaql", "abs(-7)"), ("yaql", "$.od.keys()"),
    ("yaql", "$.od.values()"), ("yaql", "$.od"), ("yaql", "$.od.items()"), ("yaql", "dict(b => 1, a => 2)"),
    ("yaql", "{z => 1, a => 2}.keys()"), ("yaql", "$.users.orderBy($.age).select($.name)"),
    ("yaql", "$.users.groupBy($.age, $.name)"), ("yaql", "$.users.where($.age > 30).name"),
    ("yaql", "$.users.select([$.name, $.age])"), ("yaql", "$.empty.sum()"), ("yaql", "$.empty.max()"),
    ("yaql", "len($.u)"), ("yaql", "$.u.toUpper()"), ("yaql", "$.s[1]"), ("yaql", "$.s.substring(1, 1)"),
    ("yaql", "'é' + 1"), ("yaql", "1 + 'é'"), ("yaql", "null = null"), ("yaql", "null < 1"),
    ("yaql", "0 = false"), ("yaql", "1 = true"), ("yaql", "1 = 1.0"), ("yaql", "[1, 2] = [1, 2]"),
    ("yaql", "{a => 1} = {a => 1}"), ("yaql", "'abc' < 'abd'"), ("yaql", "[1, 2] < [1, 3]"),
    ("yaql", "$.t and $.n"), ("yaql", "$.n or 'x'"), ("yaql", "not $.empty"), ("yaql", "$.i in $.xs"),
    ("yaql", "3 in $.xs"), ("yaql", "'a' in $.d"), ("yaql", "$.xs[-1]"), ("yaql", "$.xs[10]"),
    ("yaql", "#x"), ("yaql", "$.d.get(a)"), ("yaql", "$.d.get('zz', 5)"), ("yaql", "$.d.set(a, 5)"),
    ("jinja", "_.n"), ("jinja", "_.missing"), ("jinja", "_.d.c.x[1].y"), ("jinja", "_.big + 1"),
    ("jinja", "_.big * 2"), ("jinja", "9223372036854775807 + 1"), ("jinja", "10 ** 20"), ("jinja", "2 ** 0.5"),
    ("jinja", "2 ** -1"), ("jinja", "0.1 + 0.2"), ("jinja", "1 / 3"), ("jinja", "4 / 2"), ("jinja", "-0.0"),
    ("jinja", "True + 1"), ("jinja", "True * 3"), ("jinja", "2 * 'ab'"), ("jinja", "'ab' * 2"),
    ("jinja", "[1] * 3"), ("jinja", "[1, 2] + [3]"), ("jinja", "'a' ~ 1 ~ None"), ("jinja", "_.u.upper()"),
    ("jinja", "_.s[1]"), ("jinja", "_.s | length"), ("jinja", "_.od.keys() | list"),
    ("jinja", "_.od.values() | list"), ("jinja", "_.od | list"), ("jinja", "_.od.items() | list"),
    ("jinja", "_.d.get('a')"), ("jinja", "_.d.get('zz', 5)"), ("jinja", "_.d['c']['x'][0]"),
    ("jinja", "_.n | default('x')"), ("jinja", "_.missing | default('x')"), ("jinja", "_.n is defined"),
    ("jinja", "_.missing is defined"), ("jinja", "_.n is none"), ("jinja", "none"), ("jinja", "None"),
    ("jinja", "true"), ("jinja", "[]"), ("jinja", "{}"), ("jinja", "(1, 2)"), ("jinja", "range(3) | list"),
    ("jinja", "range(1, 10, 3) | list"), ("jinja", "lipsum is defined"), ("jinja", "1 if _.n else 2"),
    ("jinja", "_.xs[1:]"), ("jinja", "_.xs[::-1]"), ("jinja", "_.xs | sort | first"), ("jinja", "1 == 1.0"),
    ("jinja", "0 == False"), ("jinja", "'a' < 'b'"), ("jinja", "[1, 2] < [1, 3]"), ("jinja", "_.t and _.n"),
    ("jinja", "_.n or 'x'"), ("jinja", "not _.empty"), ("jinja", "3 in _.xs"), ("jinja", "'a' in _.d"),
    ("jinja", "'ll' in _.s"), ("jinja", "_.xs[10]"), ("jinja", "_.d.zz"), ("jinja", "max(1, 2)"),
    ("jinja", "dict(a=1, b=2)"), ("jinja", "namespace(a=1).a"), ("jinja", "cycler(1, 2).next()"),
    ("jinja", "joiner(',')()"), ("jinja", "_.f | int"), ("jinja", "'12' | int + 1"), ("jinja", "'x' | int"),
    ("jinja", "'1e3' | float"), ("jinja", "'0x1A' | int(base=16)"), ("jinja", "1_000"), ("jinja", "0b101"),
    ("jinja", "0o17"), ("jinja", "0x1f"), ("jinja", "1e3"), ("jinja", "-_.i"), ("jinja", "+_.i"),
    # Repeated unary operators, Markup (tojson, escape, safe), a dict's keys iterated, list() of a query.
    ("jinja", "--3"), ("jinja", "- -_.i"), ("jinja", "+-_.i"), ("jinja", "1 - - -_.i"), ("jinja", "-+'a'"),
    ("jinja", "not not _.n"), ("jinja", "not not _.xs"), ("jinja", "[not not not 0, --2 ** 2]"),
    ("jinja", "{1: 2, 'b': 3} | list"), ("jinja", "{1: 2, 1.0: 3, True: 4} | list | length"),
    ("jinja", "[_.n | tojson] | string"), ("jinja", "'\"' + (_.d | tojson)"), ("jinja", "(_.n | tojson) + \"'\""),
    ("jinja", "_.d | tojson | e"), ("jinja", "'<' | e | e"), ("jinja", "'<' | e | forceescape"),
    ("jinja", "{'a': _.s | e} | string"), ("jinja", "('a' | tojson | upper) + '<'"), ("jinja", "(1 | safe) + '<'"),
    ("jinja", "[_.d | tojson, '<' | e]"), ("jinja", "\"'\" ~ (_.n | tojson)"), ("jinja", "{'a': _.n | tojson} | capitalize"),
    ("yaql", "list(1, [2, 3].select($))"), ("yaql", "list($.xs)"), ("yaql", "list([1, 2].select($), [3])"),
    ("yaql", "list(0, $.xs.orderBy($))"), ("yaql", "list(0, $.users.where($.age > 30).select($.name))"),
    ("yaql", "list($.xs.where($ > 1))"),
    # The conditional expression inside other expressions, nested, lazy, and without else.
    ("jinja", "[1 if 0 else 2]"), ("jinja", "(1 if _.i else 2) + 1"), ("jinja", "{'a': 1 if [] else 2}"),
    ("jinja", "_.xs | map('string') | list if _.xs else []"), ("jinja", "_.empty | map('string') | list if _.empty else []"),
    ("jinja", "1 if 0 else 2 if 0 else 3"), ("jinja", "1 if 1 if 1 else 0"), ("jinja", "0 or 1 if 0 or 0 else 3 or 4"),
    ("jinja", "not 1 if 0 else 5"), ("jinja", "1 + 1 if 1 else 0"), ("jinja", "1 // 0 if 0 else 4"),
    ("jinja", "1 if 0 else 1 // 0 if 1 else 5"), ("jinja", "1 if _.missing else 2"), ("jinja", "(1, 2 if 0 else 3)"),
    ("jinja", "dict(a=1 if 0 else 2)"), ("jinja", "[1, 2][0 if _.n else 1]"), ("jinja", "_.xs[1 if _.t else 0:]"),
    ("jinja", "'x' | replace('x' if _.s else 'y', 'z')"), ("jinja", "_.s.upper() if _.n is none else 1"),
    ("jinja", "1 if 0"), ("jinja", "[1 if 0]"), ("jinja", "(1 if 0) + 1"), ("jinja", "(1 if 0) is defined"),
    ("jinja", "((1 if 0) if 1 else 2) is defined"), ("jinja", "(_.d.zz if 1 else 2) is defined"),
    ("jinja", "(1 if 0) | default(5)"), ("jinja", "[1 if 0] | length"), ("jinja", "(1 // 0 if 1) is defined"),
    ("jinja", "1 if 0 if 1 else 1 else 2"), ("jinja", "[1 if 1 else]"), ("jinja", "{'a': _.d.a if _.d.a > 1}"),
    ("jinja", "x if x is defined else 0"), ("jinja", "1 if _.u else 2 if _.od else 3"),
    ("jinja", "1 if {} else 2"), ("jinja", "[1 if {} else 2, 3 if [4 if 0] else 5, 6 if dict() else 7]"),
]

# Text with inline expressions and Jinja statements.
INLINE = [
    "n={{ _.n }}", "n=<% $.n %>", "x={{ _.xs }}", "x=<% $.xs %>", "d={{ _.d }}", "d=<% $.d %>",
    "f={{ _.f }} b={{ _.t }}", "f=<% $.f %> b=<% $.t %>", "u={{ _.users[0] }}", "u=<% $.users[0] %>",
    "{{ 1 }}{{ 2 }}", "<% 1 %><% 2 %>", "e={{ _.empty }}{{ {} }}", "big=<% $.big %>", "s={{ 'é' }}",
    "{% for x in _.xs %}{{ x }},{% endfor %}", "{% for k in _.od %}{{ k }},{% endfor %}",
    "{% for k, v in _.d.items() %}{{ k }}={{ v }};{% endfor %}", "{% if _.n %}yes{% else %}no{% endif %}",
    "{% if _.n is none %}none{% endif %}", "{% set y = 3 %}{{ y * 2 }}",
    "{% set ns = namespace(c=0) %}{% for x in _.xs %}{% set ns.c = ns.c + x %}{% endfor %}{{ ns.c }}",
    "{% macro m(a) %}<{{ a }}>{% endmacro %}{{ m(1) }}{{ m('x') }}",
    "{% for x in _.xs %}{{ loop.index }}{{ '' if loop.last else ',' }}{% endfor %}",
    "{% for x in [] %}a{% else %}empty{% endfor %}", "{% filter upper %}shout{% endfilter %}",
    "{% raw %}{{ not evaluated }}{% endraw %}", "{# comment #}kept", "a\n{% if true %}\nb\n{% endif %}\nc",
    "{% for u in _.users | sort(attribute='name') %}{{ u.name }} {% endfor %}",
    "{% with a = 2 %}{{ a }}{% endwith %}", "{{ '%s-%d' % ('a', 3) }}", "{{ '{}-{}'.format(1, 'b') }}",
    "{{ _.f }} and {{ _.i / 2 }}", "<% $.i / 2 %> and <% $.f * 2 %>", "{{ 1.0 }} {{ 1e20 }} {{ 1e-5 }}",
    "<% 1.0 %> <% 1e20 %> <% 0.00001 %>", "{{ _.u | upper }} {{ _.s | title }}", "{{ none }}|{{ true }}",
    "<% null %>|<% true %>", "{{ [1, 'a', none, 2.5] }}", "<% [1, 'a', null, 2.5] %>",
    "a{{ 1 if 0 }}b{{ 2 if 1 }}{{ 3 if {} else 4 }}", "{% set x = 1 if 0 else 7 %}{% if (1 if 0 else 0) %}a{% else %}{{ x }}{% endif %}",
    "{% if 1 if 1 else 0 %}a{% endif %}{{ 1 }}",
    "{% for x in _.xs if x > 1 if 1 else 0 %}{{ x }}{% endfor %}{% for x in [1 if 1 else 0, 2] %}{{ x }}{% endfor %}",
    "{% macro m(a=1 if 0 else 2) %}{{ a if a else 'z' }}{% endmacro %}{{ m() }}{{ m(0) }}",
    "{% if (0 if 0) is defined %}a{% elif (1 if _.n else 0) %}b{% else %}{{ 'c' if 1 }}{% endif %}",
]


# The data every case sees as $ / _. od's keys are not in sorted order, so
# cases over it show whether insertion order is kept.
CONTEXT = {
    "n": None, "i": 7, "neg": -7, "f": 2.5, "s": "hello", "u": "straße", "big": 9007199254740993,
    "t": True, "xs": [3, 1, 2], "fs": [1.5, 2.0, -0.5], "empty": [],
    "d": {"a": 1, "b": 2, "c": {"x": [1, {"y": None}]}},
    "od": {"zeta": 1, "alpha": 2, "mid": 3},
    "users": [{"name": "ada", "age": 36}, {"name": "bob", "age": 25}, {"name": "cy", "age": 36}],
}


def build(pkg):
    cases = yaql_docs(pkg) + grid() + jinja_filters() + jinja_strings() + yaql_strings() + yaql_collections()
    for i, (lang, e) in enumerate(MISTRAL):
        cases.append(("mistral:%d" % i, lang, e))
    for i, (lang, e) in enumerate(EDGE):
        cases.append(("edge:%d" % i, lang, e))
    out, seen = [], set()
    for cid, lang, e in cases:
        if cid in seen:
            raise SystemExit("duplicate case id %s" % cid)
        seen.add(cid)
        out.append({"id": cid, "lang": lang, "expr": wrap(lang, e)})
    for i, text in enumerate(INLINE):
        out.append({"id": "inline:%d" % i, "lang": "jinja" if "{" in text else "yaql", "expr": text})
    return out


def wrap(lang, e):
    return "<%% %s %%>" % e if lang == "yaql" else "{{ %s }}" % e


def main():
    pkg, out = sys.argv[1], sys.argv[2]
    cases = build(pkg)
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"context": CONTEXT, "cases": cases}, f, ensure_ascii=False, indent=0)
        f.write("\n")
    print("%d cases" % len(cases), file=sys.stderr)


if __name__ == "__main__":
    main()
