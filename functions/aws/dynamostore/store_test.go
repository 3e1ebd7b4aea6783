package dynamostore_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/storetest"
	"github.com/lazyflow/lazyflow/functions/aws/dynamostore"
)

// TestConformanceDynamoDBLocal runs the whole suite, with the 200-branch
// fan-in (3 executions at once, 32 goroutines, every result twice and
// shuffled), against DynamoDB Local, large values offloaded to MiniStack's S3.
func TestConformanceDynamoDBLocal(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) store.Store {
		return newStore(t, ddbLocal, dynamostore.Options{Blobs: valueBlobs(t)})
	}, storetest.Options{Big: 300 << 10, TooBig: 5 << 20})
}

// TestConformanceMiniStack runs the suite against MiniStack's DynamoDB (the
// emulator the deployed stack is tested on); one fan-in execution, as
// MiniStack serves requests one at a time.
func TestConformanceMiniStack(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) store.Store {
		return newStore(t, ministack, dynamostore.Options{Blobs: valueBlobs(t)})
	}, storetest.Options{Big: 300 << 10, TooBig: 5 << 20, Executions: 1})
}

// lossyTransport forwards every request to the server, and for the first
// request whose target matches it drops the response, as a network that
// fails after the server acted would. Only the loss is injected: the
// request and the retry reach the real DynamoDB Local.
type lossyTransport struct {
	target string
	lost   atomic.Bool
}

func (l *lossyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && strings.HasSuffix(r.Header.Get("X-Amz-Target"), l.target) && l.lost.CompareAndSwap(false, true) {
		_ = resp.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return resp, err
}

// TestLostResponseToConditionalWrite: a conditional single-item write that
// landed but whose response was lost is retried; the retry's condition fails
// against the item the first try wrote. That is the write done, not a
// conflict. For a claim it matters most: a claim reported refused after it
// landed leaves the task claimed and never run. Each case then checks that
// another writer under the same condition is still refused.
func TestLostResponseToConditionalWrite(t *testing.T) {
	for _, ep := range []struct{ name, url string }{{"DynamoDBLocal", ddbLocal}, {"MiniStack", ministack}} {
		t.Run(ep.name+"/Put", func(t *testing.T) { testLostPut(t, ep.url) })
		t.Run(ep.name+"/Update", func(t *testing.T) { testLostUpdate(t, ep.url) })
		t.Run(ep.name+"/Claim", func(t *testing.T) { testLostClaim(t, ep.url, -1) })
		t.Run(ep.name+"/ClaimSlot", func(t *testing.T) { testLostClaim(t, ep.url, 0) })
		t.Run(ep.name+"/Transaction", func(t *testing.T) { testLostTransaction(t, ep.url) })
	}
}

// lossyStore is a store whose client loses the response to the first
// request with the given target once armed.
func lossyStore(t *testing.T, endpoint, target string) (*dynamostore.Store, *lossyTransport) {
	lossy := &lossyTransport{target: target}
	lossy.lost.Store(true) // disarmed while the test sets up
	c := dynamodb.NewFromConfig(awsConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = &http.Client{Transport: lossy}
	})
	return newStoreWith(t, c, dynamostore.Options{}), lossy
}

func mustLose(t *testing.T, lossy *lossyTransport) {
	t.Helper()
	if !lossy.lost.Load() {
		t.Fatal("no response was lost: the test did not test anything")
	}
}

func testLostPut(t *testing.T, endpoint string) {
	st, lossy := lossyStore(t, endpoint, ".PutItem")
	lossy.lost.Store(false)
	e := &engine.Execution{ID: "e1", Workflow: "wf", DefID: "d", State: engine.Running, Root: "e1",
		Created: time.Now().UTC(), Updated: time.Now().UTC()}
	if err := st.Commit(context.Background(), []engine.Op{engine.PutExecution{Exec: e}}); err != nil {
		t.Fatalf("commit after a lost response: %v", err)
	}
	mustLose(t, lossy)
	got, err := st.Execution(context.Background(), "e1")
	if err != nil || got == nil || got.Version != 1 {
		t.Fatalf("stored head %+v, %v; want version 1", got, err)
	}
	// The same put again, from another writer, is still a conflict.
	err = st.Commit(context.Background(), []engine.Op{engine.PutExecution{Exec: e}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second identical write over the existing head: %v, want ErrConflict", err)
	}
}

func testLostUpdate(t *testing.T, endpoint string) {
	ctx := context.Background()
	st, lossy := lossyStore(t, endpoint, ".UpdateItem")
	tk := &engine.Task{Exec: "e1", Key: "a", Name: "a", State: engine.Running, Attempt: 1}
	if err := st.Commit(ctx, []engine.Op{engine.PutTask{Task: tk}}); err != nil {
		t.Fatal(err)
	}
	lossy.lost.Store(false)
	done := *tk
	done.State = engine.Success
	if err := st.Commit(ctx, []engine.Op{engine.PutTask{Task: &done, IfVersion: 1}}); err != nil {
		t.Fatalf("versioned update after a lost response: %v", err)
	}
	mustLose(t, lossy)
	got, err := st.Task(ctx, "e1", "a")
	if err != nil || got == nil || got.Version != 2 || got.State != engine.Success {
		t.Fatalf("stored task %+v, %v; want version 2 in SUCCESS", got, err)
	}
	// The same update again (a second writer that read version 1) is refused.
	if err := st.Commit(ctx, []engine.Op{engine.PutTask{Task: &done, IfVersion: 1}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second update from version 1: %v, want ErrConflict", err)
	}
}

func testLostClaim(t *testing.T, endpoint string, slot int) {
	ctx := context.Background()
	st, lossy := lossyStore(t, endpoint, ".UpdateItem")
	ops := []engine.Op{engine.PutTask{Task: &engine.Task{Exec: "e1", Key: "a", Name: "a", State: engine.Running, Attempt: 1}}}
	if slot >= 0 {
		ops = append(ops, engine.PutSlot{Slot: &engine.Slot{Exec: "e1", Task: "a", Index: slot, State: engine.Running, Attempt: 1}})
	}
	if err := st.Commit(ctx, ops); err != nil {
		t.Fatal(err)
	}
	lossy.lost.Store(false)
	p := store.ClaimParams{Exec: "e1", Task: "a", Slot: slot, Attempt: 1}
	if err := st.ClaimAttempt(ctx, p); err != nil {
		t.Fatalf("claim after a lost response: %v", err)
	}
	mustLose(t, lossy)
	// Another runner's claim of the same attempt (a redelivered message) is
	// refused: the claim is still once only.
	if err := st.ClaimAttempt(ctx, p); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second claim of attempt 1: %v, want ErrConflict", err)
	}
}

// A transaction's retry carries the same ClientRequestToken, so the server
// answers it as the first try; this pins that both emulators honour it.
func testLostTransaction(t *testing.T, endpoint string) {
	ctx := context.Background()
	st, lossy := lossyStore(t, endpoint, ".TransactWriteItems")
	lossy.lost.Store(false)
	ops := []engine.Op{engine.PutTask{Task: &engine.Task{Exec: "e1", Key: "a", Name: "a", State: engine.Running, Attempt: 1}},
		engine.PutTask{Task: &engine.Task{Exec: "e1", Key: "b", Name: "b", State: engine.Running, Attempt: 1}}}
	if err := st.Commit(ctx, ops); err != nil {
		t.Fatalf("transaction after a lost response: %v", err)
	}
	mustLose(t, lossy)
	if err := st.Commit(ctx, ops); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("the same creations again: %v, want ErrConflict", err)
	}
}
