package expr

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/lazyflow/lazyflow/core/value"
	"github.com/lazyflow/lazyflow/core/yaql"
)

// jinjaExprRe is the {{ }} Mistral looks for first in a Jinja string
// (InlineJinjaEvaluator's pattern: on one line, shortest match).
var jinjaExprRe = regexp.MustCompile(`{{(.*?)}}`)

// errNoJinjaExpr is how Mistral fails on a Jinja string without a {{ }}:
// it indexes the first match of jinjaExprRe and gets an IndexError.
var errNoJinjaExpr = errors.New("a Jinja string needs a {{ }} expression on one line to be evaluated; {% %} blocks alone fail in Mistral (list index out of range)")

// pureFuncs are Mistral's functions that need no host: they work the same in
// every execution.
var pureFuncs = map[string]Func{
	"uuid": func(args []any) (any, error) {
		if len(args) != 0 {
			return nil, errors.New("uuid takes no arguments")
		}
		return yaql.UUID(), nil
	},
	"json_dump": func(args []any) (any, error) {
		if len(args) != 1 {
			return nil, errors.New("json_dump takes one argument")
		}
		// Mistral's json_dump is jsonutils.dumps(data, indent=4) in both languages.
		return value.JSON(value.Normalize(args[0]), 4, true), nil
	},
	"json_pp": func(args []any) (any, error) {
		if len(args) != 1 {
			return nil, errors.New("json_pp takes one argument")
		}
		return value.JSON(value.Normalize(args[0]), 4, false), nil
	},
	"json_parse": func(args []any) (any, error) {
		if len(args) != 1 {
			return nil, errors.New("json_parse takes one argument")
		}
		s, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("json_parse needs a string, not %T", args[0])
		}
		v, err := value.FromJSONExact([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("json_parse: %w", err)
		}
		return v, nil
	},
	"yaml_dump": func(args []any) (any, error) {
		if len(args) != 1 {
			return nil, errors.New("yaml_dump takes one argument")
		}
		return yaql.YAMLDump(args[0])
	},
	"yaml_parse": func(args []any) (any, error) {
		if len(args) != 1 {
			return nil, errors.New("yaml_parse takes one argument")
		}
		s, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("yaml_parse needs a string, not %T", args[0])
		}
		v, err := yaql.YAMLParse(s)
		if err != nil {
			return nil, fmt.Errorf("yaml_parse: %w", err)
		}
		return v, nil
	},
}
