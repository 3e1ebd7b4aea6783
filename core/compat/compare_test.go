package compat

import (
	"strings"
	"testing"
)

// The comparison is what makes the tier fail on a regression: each kind of
// difference the issue names must be reported, and the engine's own error
// wording must not.
func TestCompareReportsDifferences(t *testing.T) {
	base := func() result {
		return result{State: "ERROR", StateInfo: "Failure caused by error in tasks: t1",
			Output: map[string]any{"result": "Failure caused by error in tasks: t1"},
			Tasks: []taskResult{{Name: "t1", State: "ERROR", Published: map[string]any{}},
				{Name: "t2", State: "SUCCESS", Published: map[string]any{"x": 1}}}}
	}
	plainCase := cCase{Defs: []struct {
		Kind string `json:"kind"`
		Text string `json:"text"`
	}{{Kind: "workflows", Text: "version: '2.0'"}}}
	msgCase := plainCase
	msgCase.Defs = append(msgCase.Defs[:0:0], msgCase.Defs...)
	msgCase.Defs[0].Text = "on-error: [fail(msg='boom')]"

	tests := []struct {
		name   string
		c      cCase
		change func(*result)
		want   string // "" means: agree
	}{
		{"same", plainCase, func(*result) {}, ""},
		{"engine wording", plainCase, func(r *result) {
			r.StateInfo = "failure caused by error in task 't1'"
			r.Output = map[string]any{"result": r.StateInfo}
		}, ""},
		{"end state", plainCase, func(r *result) { r.State = "SUCCESS" }, "state: Mistral ERROR, Lazyflow SUCCESS"},
		{"task state", plainCase, func(r *result) { r.Tasks[0].State = "SUCCESS" }, "task t1: states"},
		{"task count", plainCase, func(r *result) { r.Tasks = append(r.Tasks, r.Tasks[1]) }, "task t2: states"},
		{"missing task", plainCase, func(r *result) { r.Tasks = r.Tasks[:1] }, "task t2: only Mistral runs it"},
		{"published", plainCase, func(r *result) { r.Tasks[1].Published = map[string]any{"x": 2} }, "task t2: published"},
		{"output", plainCase, func(r *result) { r.Output = map[string]any{"result": r.StateInfo, "y": 1} }, "output:"},
		{"user state_info", msgCase, func(r *result) { r.StateInfo = "other" }, "state_info:"},
		{"volatile ids and times", plainCase, func(r *result) {
			r.Tasks[1].Published = map[string]any{"x": 1, "id": "ex-0123456789abcdef01234567/t2", "at": "2026-12-04 13:10:50"}
		}, ""},
		{"an id where Mistral has none", plainCase, func(r *result) {
			r.Tasks[1].Published = map[string]any{"x": "ex-0123456789abcdef01234567"}
		}, "task t2: published"},
		{"engine state_info", plainCase, func(r *result) { r.StateInfo = "other"; r.Output = map[string]any{"result": "other"} }, ""},
	}
	for _, tc := range tests {
		m := base()
		if tc.name == "volatile ids and times" {
			m.Tasks[1].Published = map[string]any{"x": 1, "id": "77225ffb-69d2-47cf-80af-9ba5838bf625", "at": "2026-12-04 12:53:45"}
		}
		l := base()
		tc.change(&l)
		got := strings.Join(compare(tc.c, m, l), "; ")
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%s: differences %q, want %q", tc.name, got, tc.want)
		}
	}
}
