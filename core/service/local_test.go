package service_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
)

// valueLoop is an in-process transport that takes messages as values.
type valueLoop struct {
	cmds  []engine.Command
	msgs  []service.Message
	bytes int // messages that arrived encoded: there must be none
}

type valueSender struct{ l *valueLoop }

func (s valueSender) Send(context.Context, []byte, time.Duration) error {
	s.l.bytes++
	return nil
}

func (s valueSender) SendValue(_ context.Context, msg any, _ time.Duration) error {
	switch m := msg.(type) {
	case engine.Command:
		s.l.cmds = append(s.l.cmds, m)
	case service.Message:
		s.l.msgs = append(s.l.msgs, m)
	default:
		return fmt.Errorf("unexpected %T", msg)
	}
	return nil
}

// A host whose queues are LocalSenders gets every message as a value and
// runs a workflow with a join and with-items to the same end as over
// encoded queues; an action's Go-typed output is seen in its canonical form.
func TestLocalSenderRunsWorkflow(t *testing.T) {
	ctx := context.Background()
	reg := actions.New()
	reg.Register("test.ints", func(context.Context, map[string]any) (any, error) { return []int{1, 2, 3}, nil })
	svc := service.New(kvstore.NewMemory(), reg, slog.New(slog.DiscardHandler))
	l := &valueLoop{}
	svc.Tasks, svc.Results = valueSender{l}, valueSender{l}
	var final *engine.Execution
	svc.OnFinished = func(e *engine.Execution) { final = e }
	src := `version: '2.0'
wf:
  output:
    n: <% $.n %>
    s: <% $.s %>
  tasks:
    a:
      action: test.ints
      publish:
        xs: <% task().result %>
      on-success: [j]
    b:
      action: std.noop
      on-success: [j]
    j:
      join: all
      with-items: x in <% $.xs %>
      action: std.echo output=<% $.x * 10 %>
      publish:
        n: <% task().result.sum() %>
        s: <% str(task().result) %>
`
	if _, err := svc.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Start(ctx, service.StartRequest{Workflow: "wf", Input: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	for steps := 0; final == nil; steps++ {
		if steps > 1000 {
			t.Fatal("no end after 1000 messages")
		}
		switch {
		case len(l.msgs) > 0:
			m := l.msgs[0]
			l.msgs = l.msgs[1:]
			if err := svc.HandleMessageValue(ctx, m); err != nil {
				t.Fatal(err)
			}
		case len(l.cmds) > 0:
			c := l.cmds[0]
			l.cmds = l.cmds[1:]
			if err := svc.RunCommand(ctx, c); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatal("nothing left to do, execution not finished")
		}
	}
	if l.bytes != 0 {
		t.Fatalf("%d messages were encoded", l.bytes)
	}
	out, _ := final.Output.(map[string]any)
	if final.State != engine.Success || out["n"] != int64(60) || out["s"] != "[10, 20, 30]" {
		t.Fatalf("state %s %q output %#v", final.State, final.StateInfo, final.Output)
	}
}
