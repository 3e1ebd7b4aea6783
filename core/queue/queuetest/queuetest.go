// Package queuetest is the conformance suite for queue.Queue drivers: the
// in-memory queue, boltqueue and the SQS driver all run it, so the hosts can
// rely on SQS's semantics (at-least-once delivery, visibility timeout,
// delays, receive counts, dead-letter queue) whatever the driver.
//
// Timing is in whole seconds because SQS counts visibility and delays in
// seconds; the suite asks for a 1 s visibility timeout and waits a little
// longer than asked before it expects a message back.
package queuetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/queue"
)

// Options is what the suite asks of a new queue.
type Options struct {
	// Visibility is the queue's visibility timeout (whole seconds).
	Visibility time.Duration
	// MaxReceives moves a message to the DLQ after this many receives (0: no DLQ).
	MaxReceives int
}

// Queues is a new, empty queue and, when Options.MaxReceives > 0, its
// dead-letter queue.
type Queues struct {
	Queue queue.Queue
	DLQ   queue.Queue
	// Duplicates says a sent message may arrive as a second copy under its
	// own ID, as on SQS when the SDK retries a send whose response was lost.
	// A driver that leaves it false is held to one copy per send.
	Duplicates bool
}

// Run runs the suite; its subtests run in parallel, each on its own queue,
// so newQueue must be safe to call concurrently. newQueue must return empty queues configured as
// asked; the driver's test cleans them up (t.Cleanup).
func Run(t *testing.T, newQueue func(t *testing.T, opt Options) Queues) {
	std := func(t *testing.T) queue.Queue { return newQueue(t, Options{Visibility: time.Second}).Queue }
	t.Run("SendReceiveDelete", func(t *testing.T) { t.Parallel(); testSendReceiveDelete(t, std(t)) })
	t.Run("Visibility", func(t *testing.T) { t.Parallel(); testVisibility(t, std(t)) })
	t.Run("ChangeVisibility", func(t *testing.T) { t.Parallel(); testChangeVisibility(t, std(t)) })
	t.Run("Delay", func(t *testing.T) { t.Parallel(); testDelay(t, std(t)) })
	t.Run("LongPoll", func(t *testing.T) { t.Parallel(); testLongPoll(t, std(t)) })
	t.Run("Cancel", func(t *testing.T) { t.Parallel(); testCancel(t, std(t)) })
	t.Run("MaxMessages", func(t *testing.T) { t.Parallel(); testMax(t, std(t)) })
	t.Run("DeadLetter", func(t *testing.T) {
		t.Parallel()
		testDeadLetter(t, newQueue(t, Options{Visibility: time.Second, MaxReceives: 2}))
	})
	t.Run("ConcurrentConsumers", func(t *testing.T) {
		t.Parallel()
		testConcurrent(t, newQueue(t, Options{Visibility: 30 * time.Second}).Queue)
	})
}

var bg = context.Background()

// slack is how much later than due a message may already come back: the
// windows in which one must not come back end this much after its due time.
const slack = 1500 * time.Millisecond

// late bounds the wait for a message that will come: generous, since a
// loaded machine (or emulator) may be slow to deliver it, yet far under
// SQS's default 30 s visibility, which a driver ignoring the setting gets.
const late = 10 * time.Second

func send(t *testing.T, q queue.Queue, body string, delay time.Duration) {
	t.Helper()
	if err := q.Send(bg, []byte(body), delay); err != nil {
		t.Fatalf("send %q: %v", body, err)
	}
}

func receive(t *testing.T, q queue.Queue, max int, wait time.Duration) []queue.Message {
	t.Helper()
	ms, err := q.Receive(bg, max, wait)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if len(ms) > max {
		t.Fatalf("receive(max %d) returned %d messages", max, len(ms))
	}
	return ms
}

// receiveOne waits up to wait for exactly one message.
func receiveOne(t *testing.T, q queue.Queue, wait time.Duration) queue.Message {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		left := time.Until(deadline)
		if left < 0 {
			left = 0
		}
		ms := receive(t, q, 1, min(left, 5*time.Second))
		if len(ms) == 1 {
			return ms[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message within %v", wait)
		}
	}
}

func expectNone(t *testing.T, q queue.Queue, wait time.Duration, why string) {
	t.Helper()
	if ms := receive(t, q, 10, wait); len(ms) > 0 {
		t.Fatalf("%s: received %q", why, ms[0].Body)
	}
}

func testSendReceiveDelete(t *testing.T, q queue.Queue) {
	expectNone(t, q, 0, "empty queue")
	body := `{"result":{"exec":"ex-1","task":"t","ok":true}}` + "\n\x01 ünïcode"
	send(t, q, body, 0)
	m := receiveOne(t, q, late)
	if string(m.Body) != body || m.Receives != 1 || m.ID == "" || m.Receipt == "" {
		t.Fatalf("received %+v", m)
	}
	if err := q.Delete(bg, m.Receipt); err != nil {
		t.Fatalf("delete: %v", err)
	}
	expectNone(t, q, time.Second+slack, "a deleted message after the visibility timeout")
}

func testVisibility(t *testing.T, q queue.Queue) {
	send(t, q, "again", 0)
	first := receiveOne(t, q, late)
	start := time.Now()
	expectNone(t, q, 0, "a message inside its visibility timeout")
	second := receiveOne(t, q, time.Second+late)
	if time.Since(start) < 700*time.Millisecond {
		t.Fatalf("the message came back after %v, before its 1 s visibility timeout", time.Since(start))
	}
	if string(second.Body) != "again" || second.ID != first.ID || second.Receives != 2 || second.Receipt == first.Receipt {
		t.Fatalf("redelivery %+v after %+v: want the same id, receive count 2 and a new receipt", second, first)
	}
	if err := q.Delete(bg, second.Receipt); err != nil {
		t.Fatalf("delete with the current receipt: %v", err)
	}
	expectNone(t, q, time.Second+slack, "a message deleted with its current receipt")
}

func testChangeVisibility(t *testing.T, q queue.Queue) {
	send(t, q, "cv", 0)
	m := receiveOne(t, q, late)
	if err := q.ChangeVisibility(bg, m.Receipt, 0); err != nil {
		t.Fatalf("change visibility to 0: %v", err)
	}
	m2 := receiveOne(t, q, late)
	if m2.ID != m.ID || m2.Receives != 2 {
		t.Fatalf("after making it visible: %+v", m2)
	}
	// Extending hides it past the queue's own timeout (a runner that needs longer).
	if err := q.ChangeVisibility(bg, m2.Receipt, 3*time.Second); err != nil {
		t.Fatalf("extend visibility: %v", err)
	}
	expectNone(t, q, 1500*time.Millisecond, "a message whose visibility was extended to 3 s")
	m3 := receiveOne(t, q, 1500*time.Millisecond+late)
	if m3.ID != m.ID || m3.Receives != 3 {
		t.Fatalf("after the extension: %+v", m3)
	}
	if err := q.Delete(bg, m3.Receipt); err != nil {
		t.Fatal(err)
	}
}

func testDelay(t *testing.T, q queue.Queue) {
	start := time.Now()
	send(t, q, "later", 2*time.Second)
	send(t, q, "now", 0)
	m := receiveOne(t, q, late)
	if string(m.Body) != "now" {
		t.Fatalf("first message %q, want the undelayed one", m.Body)
	}
	_ = q.Delete(bg, m.Receipt)
	expectNone(t, q, 500*time.Millisecond, "a message delayed by 2 s")
	m = receiveOne(t, q, 2*time.Second+late)
	if string(m.Body) != "later" || time.Since(start) < 1800*time.Millisecond {
		t.Fatalf("delayed message %q after %v", m.Body, time.Since(start))
	}
	_ = q.Delete(bg, m.Receipt)
}

func testLongPoll(t *testing.T, q queue.Queue) {
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = q.Send(bg, []byte("poll"), 0)
	}()
	start := time.Now()
	ms := receive(t, q, 1, 5*time.Second)
	if len(ms) != 1 || string(ms[0].Body) != "poll" {
		t.Fatalf("long poll returned %v", ms)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("long poll returned %v after the message was sent", d)
	}
	_ = q.Delete(bg, ms[0].Receipt)
	start = time.Now()
	if ms := receive(t, q, 1, time.Second); len(ms) != 0 {
		t.Fatalf("empty long poll returned %v", ms)
	}
	if d := time.Since(start); d < 800*time.Millisecond {
		t.Fatalf("an empty long poll of 1 s returned after %v", d)
	}
}

func testCancel(t *testing.T, q queue.Queue) {
	ctx, cancel := context.WithTimeout(bg, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	ms, err := q.Receive(ctx, 1, 10*time.Second)
	if len(ms) != 0 {
		t.Fatalf("received %v from an empty queue", ms)
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		t.Fatalf("receive after cancel: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("receive ignored its context for %v", d)
	}
}

func testMax(t *testing.T, q queue.Queue) {
	const n = 7
	for i := 0; i < n; i++ {
		send(t, q, fmt.Sprint("m", i), 0)
	}
	seen := map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for len(seen) < n && time.Now().Before(deadline) {
		for _, m := range receive(t, q, 3, time.Second) {
			if seen[string(m.Body)] {
				t.Fatalf("%s received twice inside its visibility timeout", m.Body)
			}
			seen[string(m.Body)] = true
			if err := q.Delete(bg, m.Receipt); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(seen) != n {
		t.Fatalf("received %d of %d messages", len(seen), n)
	}
}

func testDeadLetter(t *testing.T, qs Queues) {
	q, dlq := qs.Queue, qs.DLQ
	if dlq == nil {
		t.Fatal("the driver returned no dead-letter queue for MaxReceives 2")
	}
	send(t, q, "poison", 0)
	send(t, q, "fine", 0)
	// Where the driver allows duplicates (qs.Duplicates), each copy of poison
	// must count its own receives and reach the dead-letter queue.
	var fine bool
	poison := map[string]int{} // receives by message ID
	seePoison := func(m queue.Message) {
		if _, seen := poison[m.ID]; !seen && len(poison) > 0 && !qs.Duplicates {
			t.Fatalf("poison arrived as a second copy (ID %s) from a driver that sends one", m.ID)
		}
		poison[m.ID]++
		if n := poison[m.ID]; m.Receives != n {
			t.Fatalf("receive count %d, want %d", m.Receives, n)
		}
		if poison[m.ID] > 2 {
			t.Fatalf("poison received %d times with MaxReceives 2", poison[m.ID])
		}
	}
	done := func() bool {
		if !fine || len(poison) == 0 {
			return false
		}
		for _, n := range poison {
			if n < 2 {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && !done() {
		for _, m := range receive(t, q, 10, time.Second) {
			switch string(m.Body) {
			case "fine":
				fine = true
				_ = q.Delete(bg, m.Receipt)
			case "poison":
				seePoison(m) // not deleted: the host failed on it
			}
		}
	}
	if !done() {
		t.Fatalf("fine received %v, poison received %v times (by message ID)", fine, poison)
	}
	if len(poison) > 1 {
		t.Logf("poison was delivered as %d copies (at-least-once)", len(poison))
	}
	// Like SQS, a driver may move the message when it next comes up for
	// receiving, so keep the source queue polled while waiting for it.
	dead := map[string]bool{}
	deadline = time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range receive(t, q, 10, 500*time.Millisecond) {
			if n := poison[m.ID]; n >= 2 || string(m.Body) != "poison" {
				t.Fatalf("%q received again after %d receives with MaxReceives 2", m.Body, n)
			}
			seePoison(m) // a late copy, on its own course
		}
		for _, m := range receive(t, dlq, 10, 500*time.Millisecond) {
			if string(m.Body) != "poison" {
				t.Fatalf("dead letter %q", m.Body)
			}
			dead[m.ID] = true
		}
		if len(dead) >= len(poison) && done() {
			return
		}
	}
	t.Fatalf("%d of %d poison copies reached the dead-letter queue", len(dead), len(poison))
}

func testConcurrent(t *testing.T, q queue.Queue) {
	const n, consumers = 60, 6
	var sendWG sync.WaitGroup
	for i := 0; i < 3; i++ {
		sendWG.Add(1)
		go func(p int) {
			defer sendWG.Done()
			for j := 0; j < n/3; j++ {
				if err := q.Send(bg, []byte(fmt.Sprintf("p%d-%02d", p, j)), 0); err != nil {
					t.Error(err)
				}
			}
		}(i)
	}
	var mu sync.Mutex
	got := map[string]int{}
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for c := 0; c < consumers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				ms, err := q.Receive(ctx, 5, time.Second)
				if err != nil {
					return
				}
				for _, m := range ms {
					mu.Lock()
					got[string(m.Body)]++
					done := len(got) == n
					mu.Unlock()
					if err := q.Delete(bg, m.Receipt); err != nil {
						t.Error(err)
					}
					if done {
						cancel()
					}
				}
			}
		}()
	}
	sendWG.Wait()
	wg.Wait()
	if len(got) != n {
		var keys []string
		for k := range got {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t.Fatalf("%d of %d messages consumed: %s", len(got), n, strings.Join(keys, " "))
	}
	for k, c := range got {
		if c > 1 {
			t.Fatalf("%s consumed %d times inside a 30 s visibility timeout", k, c)
		}
	}
}
