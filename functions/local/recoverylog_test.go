package local_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/queue/boltqueue"
	"github.com/lazyflow/lazyflow/core/store/boltstore"
	"github.com/lazyflow/lazyflow/functions/local"
)

// records keeps the log records at or above a level, from every server
// that logs to it.
type records struct {
	mu   sync.Mutex
	min  slog.Level
	recs []string
}

func (r *records) Enabled(_ context.Context, l slog.Level) bool { return l >= r.min }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	line := rec.Level.String() + " " + rec.Message
	rec.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	r.mu.Lock()
	r.recs = append(r.recs, line)
	r.mu.Unlock()
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func (r *records) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.recs...)
}

const crashMix = `
version: '2.0'
naps:
  tasks:
    nap:
      action: std.sleep seconds=1
      safe-rerun: true
      on-success: after
    after:
      action: std.echo output="done"
items:
  tasks:
    each:
      with-items: i in <% [1, 2, 3, 4] %>
      concurrency: 2
      action: std.sleep seconds=1
      retry:
        count: 3
        delay: 0
parent:
  tasks:
    call:
      workflow: naps
`

// Normal crash recovery is not an operator's business: kill (no drain)
// and restart a server several times with actions, items and
// sub-workflows in flight, and no record is logged at ERROR.
func TestCrashRecoveryLogsNoError(t *testing.T) {
	dir := t.TempDir()
	rec := &records{min: slog.LevelInfo}
	logTo := func(o *local.Options) {
		o.Log = slog.New(rec)
		o.DrainTimeout = time.Millisecond // cut short, as by a kill
		o.MaxReceives = 3
	}
	reg, _ := delegateRegistry()
	s := start(t, dir, reg, logTo)
	s.register(crashMix)
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, s.run("naps", `{}`), s.run("items", `{}`), s.run("parent", `{}`))
	}
	for cycle := 0; cycle < 6; cycle++ {
		time.Sleep(time.Duration(150+100*cycle) * time.Millisecond)
		s.stop()
		s = start(t, dir, reg, logTo)
	}
	for _, id := range ids {
		s.wait(id, "SUCCESS", 60*time.Second)
	}
	// Messages given up across the kills, as a queue does after too many
	// receives: about attempts that ended meanwhile, and a result for an
	// execution that is gone (purged while it waited).
	s.stop()
	leftovers(t, dir, map[string][]string{
		"tasks-dlq":   {fmt.Sprintf(`{"kind":"run_action","exec":%q,"task":"nap","slot":-1,"attempt":1}`, ids[0])},
		"results-dlq": {fmt.Sprintf(`{"result":{"exec":%q,"task":"nap","slot":-1,"attempt":1,"ok":true}}`, ids[0])},
		"results":     {`{"result":{"exec":"ex-gone","task":"t","slot":-1,"attempt":1,"ok":true}}`},
	})
	s = start(t, dir, reg, logTo)
	// The dead letters and the result are handled at the server's pace: the
	// result is given up only after MaxReceives visibility timeouts, which
	// a loaded machine stretches, so wait for the records, not a fixed time.
	want := []string{"INFO dead-lettered action message for an attempt that has ended",
		"INFO dead-lettered result for an attempt that has ended", "INFO message given up err=unprocessable message: the work this message is about has ended"}
	missing := want
	for deadline := time.Now().Add(60 * time.Second); len(missing) > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		missing = missingRecords(rec.lines(), want)
	}
	for _, id := range ids {
		s.wait(id, "SUCCESS", time.Second)
	}
	var errs []string
	for _, l := range rec.lines() {
		if strings.HasPrefix(l, "ERROR") {
			errs = append(errs, l)
		}
	}
	if len(errs) > 0 {
		t.Fatalf("crash recovery logged %d ERROR records:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	for _, m := range missing {
		t.Errorf("no record %q within 60 s", m)
	}
}

// missingRecords returns the entries of want no line contains.
func missingRecords(lines, want []string) []string {
	all := strings.Join(lines, "\n")
	var out []string
	for _, w := range want {
		if !strings.Contains(all, w) {
			out = append(out, w)
		}
	}
	return out
}

// leftovers puts messages on the queues of a stopped server's data dir.
func leftovers(t *testing.T, dir string, msgs map[string][]string) {
	t.Helper()
	db, err := boltstore.OpenDB(filepath.Join(dir, "lazyflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, bodies := range msgs {
		q, err := boltqueue.New(db, name, boltqueue.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bodies {
			if err := q.Send(context.Background(), []byte(b), 0); err != nil {
				t.Fatal(err)
			}
		}
	}
}
