package expr

import (
	"errors"
	"fmt"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
)

// Jinja2's default globals that gonja lacks or gets wrong.

// cyclerFunc is Jinja2's cycler(*items): next() gives the items in turn,
// as they are (gonja's gives them as text), current is the one next()
// gives, reset() starts again.
func cyclerFunc(_ *exec.Evaluator, params *exec.VarArgs) (any, error) {
	if len(params.Args) == 0 {
		return nil, errors.New("cycler() needs at least one item")
	}
	items := make([]any, len(params.Args))
	for i, a := range params.Args {
		items[i] = a.Interface()
	}
	pos := 0
	c := map[string]any{"current": items[0]}
	c["next"] = func() any {
		v := items[pos]
		pos = (pos + 1) % len(items)
		c["current"] = items[pos]
		return v
	}
	c["reset"] = func() string {
		pos = 0
		c["current"] = items[0]
		return ""
	}
	return c, nil
}

// lipsumFunc stands for Jinja2's lipsum global, which is defined there but
// whose text is random: evaluation here must be repeatable.
func lipsumFunc(*exec.Evaluator, *exec.VarArgs) (any, error) {
	return nil, errors.New("lipsum() makes random text, which Lazyflow does not evaluate: an expression must give the same value every time")
}

// iterName is what a for loop's sequence is passed through: Python's for
// fails on a value it cannot iterate, where gonja's ran no iteration, and
// goes through a string by code point.
const iterName = "__lf_iter"

func iterCall(e nodes.Expression) nodes.Expression { return callTo(iterName, e.Position(), e) }

func iterFunc(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	if len(params.Args) != 1 {
		return errValue(fmt.Errorf("internal: %s takes one value", iterName))
	}
	v := params.Args[0]
	if v.IsString() {
		// Python iterates code points; gonja would iterate bytes.
		items, _ := pyItems(v)
		return exec.AsValue(items)
	}
	if v.IsError() || v.IsList() || v.IsDict() {
		return v
	}
	return errValue(fmt.Errorf("'%s' object is not iterable", pyType(v)))
}
