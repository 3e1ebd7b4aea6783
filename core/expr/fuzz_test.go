package expr

import (
	"testing"
	"time"
)

// FuzzJinja compiles and evaluates arbitrary Jinja text: nothing may panic,
// and evaluation must stay within the sandbox limits.
func FuzzJinja(f *testing.F) {
	for _, c := range jinjaCases {
		f.Add(c.expr)
	}
	for _, s := range []string{
		"{{ 'a' * 100000000 }}", "{% for i in range(10) %}{{ i }}{% endfor %}", "{{ _ }}", "{{ _.m|json_dump }}",
		"{% raw %}{{ x }}{% endraw %}", "{{ loop }}", "{% for x in _.list recursive %}{{ loop(x) }}{% endfor %}",
		"{{ {'a': _}|tojson }}", "{% set ns = dict(a=1) %}{{ ns }}", "{{ range(3)|batch(2)|list }}",
		"{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "{% set ns = namespace(a=[]) %}{% set ns.a = [ns] %}{{ ns }}",
		"{{ _.list|sort(attribute='0')|pprint }}", "{{ 'x'.center(99, '*')|urlencode }}", "{{ [[1], 2] < [[1], 'a'] }}",
	} {
		f.Add(s)
	}
	funcs := hostFuncsForTest()
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Compile("{{" + s + "}}")
		if err == nil {
			evalBounded(t, v, funcs)
		}
		if v, err := Compile(s); err == nil {
			evalBounded(t, v, funcs)
		}
	})
}

func evalBounded(t *testing.T, v *Value, funcs map[string]Func) {
	start := time.Now()
	_, _ = v.Eval(&Context{Data: plainData, Funcs: funcs})
	if d := time.Since(start); d > DefaultLimits.Timeout*5 {
		t.Fatalf("evaluation took %s", d)
	}
}
