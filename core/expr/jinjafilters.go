package expr

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/lazyflow/lazyflow/core/value"
)

// Jinja2 filters whose Python results gonja's differ from: filters that
// iterate a string see its code points (gonja saw bytes), round keeps an int
// an int and rounds half to even, wordcount counts \w+ runs, tojson is
// Jinja's htmlsafe_json_dumps.

// charFilters iterate their input: a string input is its code points.
var charFilters = map[string]bool{
	"batch": true, "first": true, "groupby": true, "join": true, "last": true, "list": true,
	"map": true, "max": true, "min": true, "reject": true, "rejectattr": true, "select": true,
	"selectattr": true, "slice": true, "sort": true, "unique": true,
}

// onChars gives f a string input as the list of its code points.
func onChars(f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		if !in.IsString() {
			return f(e, in, params)
		}
		rs := []rune(in.String())
		chars := make([]any, len(rs))
		for i, r := range rs {
			chars[i] = string(r)
		}
		return f(e, exec.AsValue(chars), params)
	}
}

// roundFilter is Jinja2's round(value, precision=0, method='common'):
// common rounds half to even on the exact binary value (Python's round), and
// keeps an int an int; floor and ceil give a float.
func roundFilter(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	precision, method := 0, "common"
	if params != nil {
		if len(params.Args) > 0 {
			precision = params.Args[0].Integer()
		}
		if len(params.Args) > 1 {
			method = params.Args[1].String()
		}
		if p, ok := params.KwArgs["precision"]; ok {
			precision = p.Integer()
		}
		if m, ok := params.KwArgs["method"]; ok {
			method = m.String()
		}
	}
	i, f, isFloat, ok := pyNum(in)
	if !ok && !isBig(in) {
		return errValue(errors.New("round: the value must be a number"))
	}
	if !isFloat {
		if method == "common" {
			if isBig(in) {
				return in
			}
			return exec.AsValue(int(i))
		}
		var err error
		if f, err = pyFloat(in); err != nil {
			return errValue(err)
		}
	}
	switch method {
	case "common":
		r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'f', max(precision, 0), 64), 64)
		if err != nil {
			return errValue(err)
		}
		return exec.AsValue(r)
	case "floor", "ceil":
		p := math.Pow(10, float64(precision))
		if method == "floor" {
			return exec.AsValue(math.Floor(f*p) / p)
		}
		return exec.AsValue(math.Ceil(f*p) / p)
	}
	return errValue(errors.New("round: method must be 'common', 'ceil' or 'floor'"))
}

// wordRe is Python's Unicode \w+.
var wordRe = regexp.MustCompile(`[\p{L}\p{N}_]+`)

// wordcountFilter counts the \w+ runs of the value as text.
func wordcountFilter(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	return exec.AsValue(len(wordRe.FindAllStringIndex(in.String(), -1)))
}

var htmlSafe = strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`, "'", `\u0027`)

// tojsonFilter is Jinja2's tojson: json.dumps with sorted keys and ASCII
// escapes, then <, >, & and ' escaped so the text is safe in HTML.
func tojsonFilter(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	v, err := fromGonja(in)
	if err != nil {
		return errValue(err)
	}
	return exec.AsValue(markup(htmlSafe.Replace(value.JSON(value.SortKeys(v), -1, true))))
}
