package chaos_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/chaos"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// The harness must catch what it exists to catch: these stores are broken
// on purpose, and a run over them has to fail with the right finding.

// recorder is a chaos.TB that stops the run at the first failure.
type recorder struct{ msg string }

type stopped struct{}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	panic(stopped{})
}

func finding(fn func(tb chaos.TB)) (msg string) {
	r := &recorder{}
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(stopped); !ok {
				panic(p)
			}
			msg = r.msg
		}
	}()
	fn(r)
	return ""
}

// doubleClaims lets every claim succeed, as a store without the claim's
// condition would: a duplicated run-action message then runs twice.
type doubleClaims struct{ store.Store }

func (doubleClaims) ClaimAttempt(context.Context, store.ClaimParams) error { return nil }

// lossy drops every fifth commit while answering success.
type lossy struct {
	store.Store
	n int
}

func (l *lossy) Commit(ctx context.Context, ops []engine.Op) error {
	l.n++
	if l.n%5 == 0 {
		return nil
	}
	return l.Store.Commit(ctx, ops)
}

const detectSource = "version: '2.0'\nwf:\n  input:\n    - flag\n  tasks:\n    a:\n      action: chaos.echo k=a v=a\n      publish:\n        a: <% task().result %>\n      on-success: b\n    b:\n      with-items: x in <% range(3) %>\n      action: chaos.echo k=b v=<% $.x %>\n      publish:\n        b: <% task().result %>\n"

func TestHarnessFindsDoubledAttempts(t *testing.T) {
	c := chaos.Case{Source: detectSource}
	want := chaos.Run(t, c, memory(), chaos.Quiet())
	msg := finding(func(tb chaos.TB) {
		for seed := uint64(0); seed < 20; seed++ {
			got := chaos.Run(tb, c, doubleClaims{memory()}, chaos.NewSchedule(seed, map[string]float64{chaos.FaultDuplicate: 0.5}))
			chaos.Compare(tb, c.Source, want, got)
		}
	})
	if !strings.HasPrefix(msg, "doubled:") {
		t.Fatalf("a store that claims twice was not reported as doubled; finding: %q", msg)
	}
}

func TestHarnessFindsLostWrites(t *testing.T) {
	c := chaos.Case{Source: detectSource}
	want := chaos.Run(t, c, memory(), chaos.Quiet())
	msg := finding(func(tb chaos.TB) {
		got := chaos.Run(tb, c, &lossy{Store: memory()}, chaos.Quiet())
		chaos.Compare(tb, c.Source, want, got)
	})
	if !strings.HasPrefix(msg, "lost:") && !strings.HasPrefix(msg, "stuck:") {
		t.Fatalf("a store that drops commits was not reported as lost or stuck; finding: %q", msg)
	}
}
