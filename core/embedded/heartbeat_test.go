package embedded_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
)

// A delegate action that misses its deadline is failed by the watchdog; one
// whose third party sends heartbeats stays alive past it and completes.
func TestWatchdogAndHeartbeat(t *testing.T) {
	for _, beat := range []bool{false, true} {
		reg := actions.New()
		tokens := make(chan string, 1)
		reg.RegisterAsync("test.delegate", func(ctx context.Context, in map[string]any, cb actions.Callback) error {
			tokens <- cb.Token
			return nil
		})
		h := embedded.New(embedded.Options{Store: kvstore.NewMemory(), Actions: reg})
		h.CallbackKey = []byte(strings.Repeat("k", 32))
		// Long enough that the first heartbeat, sent as soon as the action
		// ran, lands before it on a loaded machine too.
		h.Engine.ActionDeadline = 3
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		h.Run(ctx)
		src := "version: '2.0'\nwf:\n  tasks:\n    wait:\n      action: test.delegate\n"
		if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
			t.Fatal(err)
		}
		e, _, err := h.Start(ctx, serviceStart("wf", nil))
		if err != nil {
			t.Fatal(err)
		}
		tok := <-tokens
		if beat {
			// Each beat buys far more than the pause before the next, so a
			// loaded machine's late beat still lands in time.
			for i := 0; i < 4; i++ {
				if err := h.Heartbeat(ctx, tok, 30*time.Second); err != nil {
					t.Fatalf("heartbeat: %v", err)
				}
				time.Sleep(time.Second)
			}
			// Past the original 3 s deadline, the attempt still runs.
			if cur, _ := h.Store.Execution(ctx, e.ID); cur.State != engine.Running {
				t.Fatalf("with heartbeats: state %s before the callback", cur.State)
			}
			if err := h.Callback(ctx, tok, true, "done", ""); err != nil {
				t.Fatalf("callback: %v", err)
			}
		}
		final, err := h.Wait(ctx, e.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if beat && final.State != engine.Success {
			t.Fatalf("with heartbeats: %s %q", final.State, final.StateInfo)
		}
		if !beat && (final.State != engine.Error || !strings.Contains(final.StateInfo, "did not report")) {
			t.Fatalf("without heartbeats: %s %q; want the watchdog's error", final.State, final.StateInfo)
		}
		if !beat {
			// The attempt is over: a late heartbeat is refused.
			if err := h.Heartbeat(ctx, tok, time.Second); err == nil {
				t.Fatal("heartbeat for a finished attempt accepted")
			}
		}
		h.Close()
		cancel()
	}
}
