package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/expr"
)

// Start creates an execution and its first tasks.
func (e *Engine) Start(ctx context.Context, r Reader, sp StartParams) (*Plan, error) {
	if sp.ID == "" {
		return nil, fmt.Errorf("start: empty execution id: %w", ErrInvalidInput)
	}
	doc, err := e.Defs.Doc(ctx, sp.DefID)
	if err != nil {
		return nil, fmt.Errorf("start %s: load definition: %w", sp.ID, err)
	}
	wf, err := doc.Workflow(sp.Workflow)
	if err != nil {
		return nil, fmt.Errorf("start %s: workflow %q is not defined: %w", sp.ID, sp.Workflow, ErrNotFound)
	}
	now := e.now()
	head := &Execution{
		ID: sp.ID, Workflow: sp.Workflow, DefID: sp.DefID, State: Running,
		Env: sp.Env, Target: sp.Target, Parent: sp.Parent, ParentTask: sp.ParentTask,
		ParentAttempt: sp.ParentAttempt, ParentSlot: sp.ParentSlot, Root: sp.Root, IdempotencyKey: sp.IdempotencyKey, RequestHash: sp.RequestHash,
		Created: now, Updated: now,
	}
	if head.Root == "" {
		head.Root = head.ID
	}
	if wf.Type == dsl.Reverse && head.Target == "" {
		// Mistral calls a reverse sub-workflow with its target among the
		// call's parameters (workflow: wf1 ... task_name='task2'); it is a
		// parameter, not an input of the sub-workflow.
		if name, ok := sp.Input["task_name"].(string); ok {
			head.Target = name
			in := make(map[string]any, len(sp.Input))
			for k, v := range sp.Input {
				if k != "task_name" {
					in[k] = v
				}
			}
			sp.Input = in
		}
	}
	b := (&builder{e: e, ctx: ctx, r: r, doc: doc, wf: wf, head: head, now: now, putHead: true}).init()
	if err := b.evalEnv(); err != nil {
		return nil, fmt.Errorf("start %s: %w", sp.ID, err)
	}
	input, err := b.bindInput(sp.Input)
	if err != nil {
		return nil, err
	}
	head.Input = input
	if wf.Vars != nil {
		v, err := b.scope(nil, nil).eval(wf.Vars)
		if err != nil {
			return nil, fmt.Errorf("start %s: evaluate vars of workflow %s: %w", sp.ID, wf.Name, err)
		}
		if m, ok := v.(map[string]any); ok {
			head.Vars = m
		}
	}
	if wf.Type == dsl.Reverse && head.Target == "" {
		return nil, fmt.Errorf("start %s: %w", sp.ID, inputErrorf("reverse workflow %s needs a target task", wf.Name))
	}
	g, err := graphOf(wf, head.Target)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", sp.ID, err)
	}
	b.graph = g
	starts := g.starts
	if wf.Type == dsl.Direct {
		starts = wf.StartTasks
	}
	for _, name := range starts {
		if b.head.State.Terminal() {
			// A start task that failed to run ended the execution: the
			// others are not started, so none is left running.
			break
		}
		if err := b.schedule(name, "", nil); err != nil {
			return nil, err
		}
	}
	if len(starts) == 0 {
		b.finish(Success, "", nil)
	}
	p := b.plan()
	p.Ops[0] = PutExecution{Exec: p.Exec, IfVersion: 0}
	p.Ops = append(p.Ops, PutInput{Exec: head.ID, Input: input})
	p.Exec.Version = 1
	return p, nil
}

// bindInput applies declared defaults and rejects unknown or missing inputs.
func (b *builder) bindInput(in map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(in))
	declared := make(map[string]bool, len(b.wf.Input))
	var missing []string
	for _, p := range b.wf.Input {
		declared[p.Name] = true
		if v, ok := in[p.Name]; ok {
			out[p.Name] = v
			continue
		}
		if !p.HasDefault {
			missing = append(missing, p.Name)
			continue
		}
		v, err := b.rawScope(out, nil).eval(p.Default)
		if err != nil {
			return nil, fmt.Errorf("input %q of workflow %s: default: %w", p.Name, b.wf.Name, err)
		}
		out[p.Name] = v
	}
	if len(missing) > 0 {
		return nil, inputErrorf("workflow %s: missing required input %s", b.wf.Name, strings.Join(missing, ", "))
	}
	var unknown []string
	for k, v := range in {
		if !declared[k] {
			if len(b.wf.Input) > 0 {
				unknown = append(unknown, k)
				continue
			}
			out[k] = v // a workflow that declares nothing takes whatever it is given
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, inputErrorf("workflow %s: unexpected input %s", b.wf.Name, strings.Join(unknown, ", "))
	}
	return out, nil
}

// evalEnv evaluates the expressions among a top-level execution's env
// values once, at start, with env() reading the env as given: Mistral
// 23.0.0 does so by default (evaluate_env). A sub-workflow inherits its
// parent's env already evaluated.
func (b *builder) evalEnv() error {
	if b.head.Parent != "" || len(b.head.Env) == 0 {
		return nil
	}
	v, err := expr.Compile(b.head.Env)
	if err != nil {
		return inputErrorf("env: %v", err)
	}
	if v.IsConst() {
		return nil
	}
	out, err := b.scope(nil, nil).eval(v)
	if err != nil {
		return inputErrorf("evaluate env: %v", err)
	}
	if m, ok := out.(map[string]any); ok {
		b.head.Env = m
	}
	return nil
}
