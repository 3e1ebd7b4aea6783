package engine_test

// Property tests: random workflows (chains, fan-outs into a join, conditional
// branches, with-items, failing tasks with handlers) run through two
// service.Service hosts on one memory store. No queues: the hosts' Senders
// record messages into pools; the test delivers them in a random order,
// delivers some twice, and alternates which host handles each one. The
// outcome must equal that of a plain in-order run, every action attempt must
// be claimed exactly once, each join must fire once, nothing may be left
// RUNNING, and Active must return to zero.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/core/value"
)

// genWorkflow draws a workflow: a start task fanning out to branches; each
// branch is a short chain whose tasks may be with-items or fail (with or
// without an on-error handler); some branches are taken only under a
// condition on the input; the unconditional branches meet at a join.
func genWorkflow(t *rapid.T) string {
	var b strings.Builder
	b.WriteString("version: '2.0'\nwf:\n  input:\n    - flag\n  tasks:\n    start:\n      action: std.echo output=0\n      publish:\n        s: 0\n      on-success:\n")
	branches := rapid.IntRange(1, 4).Draw(t, "branches")
	var body strings.Builder
	joined := 0
	for i := 0; i < branches; i++ {
		cond := rapid.SampledFrom([]string{"", "", " <% $.flag %>", " <% not $.flag %>"}).Draw(t, fmt.Sprintf("cond%d", i))
		if cond == "" {
			fmt.Fprintf(&b, "        - b%d_0\n", i)
		} else {
			fmt.Fprintf(&b, "        - b%d_0:%s\n", i, cond)
		}
		n := rapid.IntRange(1, 3).Draw(t, fmt.Sprintf("len%d", i))
		for j := 0; j < n; j++ {
			name := fmt.Sprintf("b%d_%d", i, j)
			fmt.Fprintf(&body, "    %s:\n", name)
			switch rapid.IntRange(0, 5).Draw(t, "kind_"+name) {
			case 0:
				items := rapid.IntRange(0, 4).Draw(t, "items_"+name)
				conc := rapid.IntRange(0, 3).Draw(t, "conc_"+name)
				fmt.Fprintf(&body, "      with-items: x in <%% range(%d) %%>\n      concurrency: %d\n      action: prop.echo output=<%% $.x %%>\n", items, conc)
			case 1:
				fmt.Fprintf(&body, "      action: prop.fail\n")
				if j+1 == n && cond == "" && branches > 1 {
					// Never taken: the join can then never be satisfied.
					body.WriteString("@@JOIN@@")
					joined++
				}
				if rapid.Bool().Draw(t, "handled_"+name) {
					fmt.Fprintf(&body, "      on-error: h_%s\n    h_%s:\n      action: prop.echo output=handled\n", name, name)
				}
				continue // a failed task ends its branch
			default:
				fmt.Fprintf(&body, "      action: prop.echo output=%s\n", name)
			}
			fmt.Fprintf(&body, "      publish:\n        %s: <%% task().result %%>\n", name)
			if j+1 < n {
				fmt.Fprintf(&body, "      on-success: b%d_%d\n", i, j+1)
			} else if cond == "" && branches > 1 {
				body.WriteString("@@JOIN@@")
				joined++
			}
		}
	}
	edge := ""
	if joined > 1 {
		edge = "      on-success: join\n"
	}
	b.WriteString(strings.ReplaceAll(body.String(), "@@JOIN@@", edge))
	if joined > 1 {
		b.WriteString("    join:\n      join: all\n      action: prop.echo output=joined\n")
	}
	return b.String()
}

// pool is a recording Sender: messages wait in it until the test delivers them.
type pool struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (p *pool) Send(ctx context.Context, body []byte, delay time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, append([]byte(nil), body...))
	return nil
}

// claimCounter wraps the store to count successful claims per attempt.
type claimCounter struct {
	store.Store
	mu     sync.Mutex
	claims map[string]int
}

func (c *claimCounter) ClaimAttempt(ctx context.Context, p store.ClaimParams) error {
	err := c.Store.ClaimAttempt(ctx, p)
	if err == nil {
		c.mu.Lock()
		c.claims[fmt.Sprintf("%s/%d/%d", p.Task, p.Slot, p.Attempt)]++
		c.mu.Unlock()
	}
	return err
}

type outcome struct {
	State  engine.State
	Output string
	Tasks  string
}

// runProp runs src to its end. With r set, messages go in random order,
// some twice, alternating hosts; with r nil, in order, once, on one host.
func runProp(t *rapid.T, src string, flag bool, r *rapid.T) (outcome, *claimCounter, map[string]int) {
	ctx := context.Background()
	st := &claimCounter{Store: kvstore.NewMemory(), claims: map[string]int{}}
	var runsMu sync.Mutex
	runs := map[string]int{} // action executions per task/slot/attempt, seen by the actions themselves
	reg := actions.New()
	reg.Register("prop.echo", func(ctx context.Context, in map[string]any) (any, error) { return in["output"], nil })
	reg.Register("prop.fail", func(ctx context.Context, in map[string]any) (any, error) { return nil, errors.New("planned failure") })
	tasks, results := &pool{}, &pool{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hosts := make([]*service.Service, 2)
	for i := range hosts {
		s := service.New(st, reg, log)
		s.Tasks, s.Results = tasks, results
		hosts[i] = s
	}
	if _, err := hosts[0].Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatalf("register: %v\n%s", err, src)
	}
	e, _, err := hosts[0].Start(ctx, service.StartRequest{Workflow: "wf", Input: value.MapOf(map[string]any{"flag": flag})})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	dispatched := map[string]bool{}
	for step := 0; ; step++ {
		if step > 10000 {
			t.Fatalf("no end after %d deliveries", step)
		}
		tasks.mu.Lock()
		results.mu.Lock()
		nt, nr := len(tasks.msgs), len(results.msgs)
		if nt+nr == 0 {
			tasks.mu.Unlock()
			results.mu.Unlock()
			break
		}
		var p *pool
		i := 0
		host := hosts[0]
		dup := false
		if r == nil {
			p = tasks
			if nt == 0 {
				p = results
			}
		} else {
			k := rapid.IntRange(0, nt+nr-1).Draw(r, "pick")
			p, i = tasks, k
			if k >= nt {
				p, i = results, k-nt
			}
			host = hosts[rapid.IntRange(0, 1).Draw(r, "host")]
			dup = rapid.IntRange(0, 4).Draw(r, "dup") == 0
		}
		body := p.msgs[i]
		if !dup {
			p.msgs = append(p.msgs[:i], p.msgs[i+1:]...)
		}
		tasks.mu.Unlock()
		results.mu.Unlock()
		if p == tasks {
			var c engine.Command
			mustJSON(t, body, &c)
			key := fmt.Sprintf("%s/%d/%d", c.Task, c.Slot, c.Attempt)
			dispatched[key] = true
			before := st.claims[key]
			if err := host.RunTask(ctx, body); err != nil {
				t.Fatalf("run task: %v", err)
			}
			if st.claims[key] > before {
				runsMu.Lock()
				runs[key]++
				runsMu.Unlock()
			}
		} else if err := host.HandleMessage(ctx, body); err != nil {
			t.Fatalf("handle message: %v", err)
		}
	}
	head, err := st.Execution(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	all, err := st.Tasks(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	joins := 0
	for _, rec := range all {
		if rec.State == engine.Running || rec.State == engine.RunningDelayed {
			t.Fatalf("execution ended %s with task %s still %s\n%s", head.State, rec.Key, rec.State, src)
		}
		if rec.Name == "join" {
			joins++
			if rec.State.Terminal() && !rec.Fired {
				t.Fatalf("join ended %s without firing", rec.State)
			}
		}
		lines = append(lines, fmt.Sprintf("%s=%s %s", rec.Key, rec.State, js(rec.Published)))
	}
	if joins > 1 {
		t.Fatalf("join ran %d times", joins)
	}
	sort.Strings(lines)
	if !head.State.Terminal() {
		t.Fatalf("execution not finished: %s (active %d)\n%s", head.State, head.Active, src)
	}
	if head.Active != 0 {
		t.Fatalf("execution %s with Active %d, want 0\n%s", head.State, head.Active, src)
	}
	for key := range dispatched {
		if st.claims[key] != 1 {
			t.Fatalf("attempt %s claimed %d times, want exactly 1\n%s", key, st.claims[key], src)
		}
	}
	return outcome{State: head.State, Output: js(head.Output), Tasks: strings.Join(lines, "\n")}, st, runs
}

func TestPropertyOrderIndependence(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		src := genWorkflow(t)
		flag := rapid.Bool().Draw(t, "flag")
		want, _, _ := runProp(t, src, flag, nil)
		got, _, runs := runProp(t, src, flag, t)
		if got != want {
			t.Fatalf("outcome depends on delivery order:\nin order: %+v\nshuffled: %+v\nworkflow:\n%s", want, got, src)
		}
		for key, n := range runs {
			if n != 1 {
				t.Fatalf("attempt %s ran %d times", key, n)
			}
		}
	})
}
