package engine_test

import (
	"testing"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/value"
)

const contextOrderSrc = `version: '2.0'
wf:
  input: [zin, ain]
  vars: {zvar: 1, avar: 2}
  tasks:
    first:
      action: my.thing
      on-success:
        publish:
          branch: {zpub: 1, apub: 2, zin: again}
          global: {gz: 1, ga: 2}
        next: [second]
    second:
      action: my.thing
      input:
        yaql: <% $.keys() %>
        jinja: "{{ _.keys() | list }}"
        loop: "{% for k in _ %}{{ k }} {% endfor %}{{ '' }}"
        dump: <% $ %>
        params: <% execution().params.env.keys() %>
        env: <% env().keys() %>
      publish: {mid: 3}
`

// $ and _ list the workflow input, then its vars and global publishes, then
// the branch's published values, each name where it first came (a value
// published again keeps its place, as in a Python dict); env() keeps the
// order it was given in; the output of a workflow without an output clause
// is the branch's published values in the order they were published.
func TestContextKeepsItsOrder(t *testing.T) {
	h := newPlanHost(t, contextOrderSrc)
	p := h.do("start", func() (*engine.Plan, error) {
		return h.e.Start(h.ctx, h.st, engine.StartParams{ID: planExec, DefID: "plan", Workflow: "wf",
			Input: value.MapFromPairs("zin", "z", "ain", "a"), Env: value.MapFromPairs("zenv", 1, "aenv", 2)})
	})
	first := only(t, p.Commands, engine.RunAction)
	second := only(t, h.follow(h.result(first, true, nil, "")), engine.RunAction)
	if got, want := value.JSON(h.head().Vars, -1, false), `{"zvar": 1, "avar": 2, "gz": 1, "ga": 2}`; got != want {
		t.Fatalf("vars %s, want %s", got, want)
	}
	keys := `["zin", "ain", "zvar", "avar", "gz", "ga", "zpub", "apub"]`
	for name, want := range map[string]string{
		"yaql":   keys,
		"jinja":  keys,
		"loop":   "zin ain zvar avar gz ga zpub apub ",
		"dump":   `{"zin": "again", "ain": "a", "zvar": 1, "avar": 2, "gz": 1, "ga": 2, "zpub": 1, "apub": 2}`,
		"params": `["zenv", "aenv"]`,
		"env":    `["zenv", "aenv"]`,
	} {
		got := second.Input.Value(name)
		if s, ok := got.(string); ok && name == "loop" {
			if s != want {
				t.Errorf("%s: %q, want %q", name, s, want)
			}
			continue
		}
		if js := value.JSON(got, -1, false); js != want {
			t.Errorf("%s: %s, want %s", name, js, want)
		}
	}
	h.follow(h.result(second, true, nil, ""))
	hd := h.head()
	if hd.State != engine.Success {
		t.Fatalf("execution %s: %s", hd.State, hd.StateInfo)
	}
	if got, want := value.JSON(hd.Output, -1, false), `{"zpub": 1, "apub": 2, "zin": "again", "mid": 3}`; got != want {
		t.Fatalf("output %s, want %s", got, want)
	}
}

const branchOrderSrc = `version: '2.0'
wf:
  tasks:
    start:
      action: my.thing
      on-success: [zb, ab, zend, aend]
    zb:
      action: my.thing
      publish: {zk: 1, shared: z}
      on-success: [j]
    ab:
      action: my.thing
      publish: {ak: 1, shared: a}
      on-success: [j]
    j:
      join: all
      action: my.thing
      input: {keys: <% $.keys() %>}
    zend:
      action: my.thing
      publish: {zo: 1}
    aend:
      action: my.thing
      publish: {ao: 1}
`

// Where branches meet (a join, the end of the workflow), a name keeps the
// place the first branch in task order gives it, whichever branch finished
// first: the order does not depend on timing, as the values do not.
func TestBranchMergeOrder(t *testing.T) {
	var outputs []string
	for _, order := range [][]string{{"zb", "ab", "zend", "aend"}, {"aend", "ab", "zend", "zb"}} {
		h := newPlanHost(t, branchOrderSrc)
		cmds := h.follow(h.result(only(t, h.start("wf", nil).Commands, engine.RunAction), true, nil, ""))
		byTask := map[string]engine.Command{}
		for _, c := range cmds {
			byTask[c.Task] = c
		}
		var join []engine.Command
		for _, name := range order {
			join = append(join, h.follow(h.result(byTask[name], true, nil, ""))...)
		}
		j := only(t, join, engine.RunAction)
		if got, want := value.JSON(j.Input.Value("keys"), -1, false), `["ak", "shared", "zk"]`; got != want {
			t.Fatalf("after %v: the join's $ has %s, want %s", order, got, want)
		}
		h.follow(h.result(j, true, nil, ""))
		outputs = append(outputs, value.JSON(h.head().Output, -1, false))
	}
	want := `{"ao": 1, "ak": 1, "shared": "z", "zk": 1, "zo": 1}`
	for i, got := range outputs {
		if got != want {
			t.Fatalf("output %d: %s, want %s", i, got, want)
		}
	}
}
