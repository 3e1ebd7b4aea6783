package expr

import (
	"testing"

	"github.com/lazyflow/lazyflow/core/value"
)

// TestDictsKeepInsertionOrder: dicts from the data, from literals and from
// dict() keep their keys' order through Jinja's and YAQL's ways of reading
// and printing them, as Python's do.
func TestDictsKeepInsertionOrder(t *testing.T) {
	data, err := value.FromJSON([]byte(`{"d": {"zeta": 1, "alpha": 2, "mid": {"y": 1, "x": 2}}}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx := &Context{Root: data, RootSet: true}
	for expr, want := range map[string]string{
		`{% for k in _.d %}{{ k }} {% endfor %}`: `"zeta alpha mid "`,
		`{{ _.d.keys() | list }}`:                `["zeta", "alpha", "mid"]`,
		`{{ _.d.values() | list }}`:              `[1, 2, {"y": 1, "x": 2}]`,
		`{{ _.d | items | list }}`:               `[["zeta", 1], ["alpha", 2], ["mid", {"y": 1, "x": 2}]]`,
		`{{ dict(z=1, a=2, m=3) }}`:              `{"z": 1, "a": 2, "m": 3}`,
		`{{ dict(_.d.mid, w=0) }}`:               `{"y": 1, "x": 2, "w": 0}`,
		`{{ {'b': 1, 'a': 2} }}`:                 `{"b": 1, "a": 2}`,
		`{{ json_dump(_.d.mid) }}`:               `"{\n    \"y\": 1,\n    \"x\": 2\n}"`,
		`{{ _.d.mid | tojson }}`:                 `"{\"x\": 2, \"y\": 1}"`,
		`d={{ _.d.mid }}`:                        `"d={'y': 1, 'x': 2}"`,
		`<% $.d.mid.values() %>`:                 `[1, 2]`,
		`<% $.d.set(alpha, 9).set(new, 0) %>`:    `{"zeta": 1, "alpha": 9, "mid": {"y": 1, "x": 2}, "new": 0}`,
		`<% str($.d.mid) %>`:                     `"{'y': 1, 'x': 2}"`,
		`<% dict(b => 1, a => 2) + {z => 0} %>`:  `{"b": 1, "a": 2, "z": 0}`,
	} {
		v, err := Compile(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		r, err := v.Eval(ctx)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		if got := value.JSON(r, -1, false); got != want {
			t.Errorf("%s = %s, want %s", expr, got, want)
		}
	}
}
