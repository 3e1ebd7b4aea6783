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

// TestLostResponseToConditionalPut: a conditional put that landed but whose
// response was lost is retried; the retry's condition fails against the
// item the first try wrote. That is the write done, not a conflict: the
// commit succeeds, and the execution is stored once.
func TestLostResponseToConditionalPut(t *testing.T) {
	for _, ep := range []struct{ name, url string }{{"DynamoDBLocal", ddbLocal}, {"MiniStack", ministack}} {
		t.Run(ep.name, func(t *testing.T) { testLostResponse(t, ep.url) })
	}
}

func testLostResponse(t *testing.T, endpoint string) {
	lossy := &lossyTransport{target: ".PutItem"}
	c := dynamodb.NewFromConfig(awsConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = &http.Client{Transport: lossy}
	})
	st := newStoreWith(t, c, dynamostore.Options{})
	e := &engine.Execution{ID: "e1", Workflow: "wf", DefID: "d", State: engine.Running, Root: "e1",
		Created: time.Now().UTC(), Updated: time.Now().UTC()}
	if err := st.Commit(context.Background(), []engine.Op{engine.PutExecution{Exec: e}}); err != nil {
		t.Fatalf("commit after a lost response: %v", err)
	}
	if !lossy.lost.Load() {
		t.Fatal("no response was lost: the test did not test anything")
	}
	got, err := st.Execution(context.Background(), "e1")
	if err != nil || got == nil || got.Version != 1 {
		t.Fatalf("stored head %+v, %v; want version 1", got, err)
	}
	// A different put under the same condition is still a conflict.
	other := *e
	other.Workflow = "other"
	err = st.Commit(context.Background(), []engine.Op{engine.PutExecution{Exec: &other}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a different write over the existing head: %v, want ErrConflict", err)
	}
}
