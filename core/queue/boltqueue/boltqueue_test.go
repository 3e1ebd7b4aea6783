package boltqueue_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/lazyflow/lazyflow/core/queue/boltqueue"
	"github.com/lazyflow/lazyflow/core/queue/queuetest"
	"github.com/lazyflow/lazyflow/core/store/boltstore"
)

var n atomic.Int64

func TestConformance(t *testing.T) {
	// One file for every queue of the suite, as the local mode shares one
	// file between the store and its queues.
	db, err := bolt.Open(filepath.Join(t.TempDir(), "q.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	queuetest.Run(t, func(t *testing.T, opt queuetest.Options) queuetest.Queues {
		name := fmt.Sprint("q", n.Add(1))
		bo := boltqueue.Options{Visibility: opt.Visibility, MaxReceives: opt.MaxReceives}
		var qs queuetest.Queues
		if opt.MaxReceives > 0 {
			bo.DLQ = name + "-dlq"
			dlq, err := boltqueue.New(db, bo.DLQ, boltqueue.Options{Visibility: opt.Visibility})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = dlq.Close() })
			qs.DLQ = dlq
		}
		q, err := boltqueue.New(db, name, bo)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = q.Close() })
		qs.Queue = q
		return qs
	})
}

// TestSurvivesRestart: a message sent (or received and not deleted) before
// the file is closed is delivered after it is opened again, and the store
// and queue share the file.
func TestSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lazyflow.db")
	db, err := boltstore.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.New(db, false)
	if err != nil {
		t.Fatal(err)
	}
	q, err := boltqueue.New(db, "results", boltqueue.Options{Visibility: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"one", "two"} {
		if err := q.Send(ctx, []byte(b), 0); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := q.Receive(ctx, 1, time.Second)
	if err != nil || len(ms) != 1 || string(ms[0].Body) != "one" {
		t.Fatalf("receive before restart: %v %v", ms, err)
	}
	_ = q.Close()
	_ = st.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	q2, err := boltqueue.Open(path, "results", boltqueue.Options{Visibility: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer q2.Close()
	got := map[string]int{}
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < 2 && time.Now().Before(deadline) {
		ms, err := q2.Receive(ctx, 10, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			got[string(m.Body)] = m.Receives
			if err := q2.Delete(ctx, m.Receipt); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got["one"] != 2 || got["two"] != 1 {
		t.Fatalf("after restart received %v, want one (2nd receive) and two (1st)", got)
	}
	if n, err := q2.Len(); err != nil || n != 0 {
		t.Fatalf("Len after deleting everything: %d %v", n, err)
	}
}
