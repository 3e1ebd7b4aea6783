package dsl

import (
	"fmt"
	"math"

	"gopkg.in/yaml.v3"

	"github.com/lazyflow/lazyflow/core/expr"
)

// MaxSeconds bounds every duration a workflow gives in seconds (timeout,
// wait-before, wait-after, retry delay, std.sleep): ten years, far inside
// what a Go time.Duration or a deadline in Unix milliseconds can hold, so
// a huge number is an error rather than an overflow.
const MaxSeconds = 10 * 365 * 24 * 3600

// secondsPolicy reads a policy in seconds: a non-negative number (0.5
// too) up to MaxSeconds, or an expression.
func (l *loader) secondsPolicy(n *yaml.Node, what string) *expr.Value {
	if l.tooManySeconds(n, what) {
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!float" {
		if f, ok := scalar(n).(float64); ok && f >= 0 {
			return expr.Const(f)
		}
		l.errf(n, "%s must be a number of seconds (0 or more) or an expression, not %s", what, describe(n))
		return nil
	}
	return l.intPolicy(n, what)
}

// wholeSecondsPolicy reads a policy in whole seconds up to MaxSeconds, or
// an expression.
func (l *loader) wholeSecondsPolicy(n *yaml.Node, what string) *expr.Value {
	if l.tooManySeconds(n, what) {
		return nil
	}
	return l.intPolicy(n, what)
}

// tooManySeconds reports (as an error at n) a literal duration above
// MaxSeconds.
func (l *loader) tooManySeconds(n *yaml.Node, what string) bool {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return false
	}
	var f float64
	switch v := scalar(n).(type) {
	case int64:
		f = float64(v)
	case float64:
		f = v
	default:
		return false
	}
	if f <= MaxSeconds && !math.IsNaN(f) {
		return false
	}
	l.errf(n, "%s of %s seconds is out of range: at most %d (10 years)", what, n.Value, MaxSeconds)
	return true
}

// intPolicy reads a policy that must be a non-negative whole number or an expression.
func (l *loader) intPolicy(n *yaml.Node, what string) *expr.Value {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!int" {
			v := scalar(n)
			if i, ok := v.(int64); ok && i >= 0 {
				return expr.Const(i)
			}
		}
		if n.Tag == "!!str" && isExprString(n.Value) {
			return l.compile(n)
		}
		if n.Tag == "!!float" {
			if f, ok := scalar(n).(float64); ok && f >= 0 && f == math.Trunc(f) && f < 1e15 {
				return expr.Const(int64(f))
			}
		}
	}
	l.errf(n, "%s must be a whole number (0 or more) or an expression, not %s", what, describe(n))
	return nil
}

// boolPolicy reads a policy that must be true/false or an expression.
func (l *loader) boolPolicy(n *yaml.Node, what string) *expr.Value {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!bool" {
			return expr.Const(scalar(n))
		}
		if n.Tag == "!!str" && isExprString(n.Value) {
			return l.compile(n)
		}
	}
	l.errf(n, "%s must be true, false or an expression, not %s", what, describe(n))
	return nil
}

// condPolicy reads a condition: an expression, or a constant boolean.
func (l *loader) condPolicy(n *yaml.Node, what string) *expr.Value {
	return l.boolPolicy(n, what)
}

// retry reads the retry policy: a mapping, or Mistral's one-line form
// (retry: count=3 delay=10 break-on=<% ... %>). count is required.
func (l *loader) retry(v *yaml.Node) *Retry {
	r := &Retry{}
	hasCount := false
	switch {
	case v.Kind == yaml.MappingNode:
		ps := l.pairs(v, "retry")
		l.checkKeys(ps, retryKeys, "retry")
		for _, p := range ps {
			hasCount = hasCount || p.k.Value == "count"
			l.retrySetting(r, p.k.Value, p.v)
		}
	case v.Kind == yaml.ScalarNode && v.Tag == "!!str":
		params, err := parseParams(v.Value)
		if err != nil {
			l.errf(v, "retry: %v", err)
			return nil
		}
		for key, val := range params.All() {
			hasCount = hasCount || key == "count"
			if !l.retrySetting(r, key, paramNode(v, val)) {
				l.errf(v, "unknown retry setting %q%s", key, suggest(key, retryKeys))
			}
		}
	default:
		l.errf(v, "retry must be a mapping with count, delay, break-on, continue-on, not %s", describe(v))
		return nil
	}
	if !hasCount {
		l.errf(v, "retry needs count: the number of extra attempts")
	}
	return r
}

// retrySetting reads one retry setting into r, and reports whether key is
// one of retryKeys.
func (l *loader) retrySetting(r *Retry, key string, n *yaml.Node) bool {
	switch key {
	case "count":
		r.Count = l.intPolicy(n, "retry count")
	case "delay":
		r.Delay = l.secondsPolicy(n, "retry delay")
	case "break-on":
		r.BreakOn = l.condPolicy(n, "retry break-on")
	case "continue-on":
		r.ContinueOn = l.condPolicy(n, "retry continue-on")
	default:
		return false
	}
	return true
}

// paramNode is a scalar node for an inline parameter's value, tagged as
// YAML would tag it, at the place of the text that holds it, so that the
// policy readers check it as they check a YAML value.
func paramNode(at *yaml.Node, val any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Line: at.Line, Column: at.Column}
	n.Value = fmt.Sprint(val)
	switch val.(type) {
	case int64:
		n.Tag = "!!int"
	case bool:
		n.Tag = "!!bool"
	case float64:
		n.Tag = "!!float"
	default:
		n.Tag = "!!str"
	}
	return n
}
