//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// loadSize reads LAZYFLOW_E2E_LOAD ("100x20": executions x fan-out branches; default 100x20).
func loadSize(t *testing.T) (execs, branches int) {
	execs, branches = 100, 20
	if s := os.Getenv("LAZYFLOW_E2E_LOAD"); s != "" {
		a, b, ok := strings.Cut(s, "x")
		var err1, err2 error
		execs, err1 = strconv.Atoi(a)
		branches, err2 = strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || execs < 1 || branches < 1 {
			t.Fatalf("LAZYFLOW_E2E_LOAD=%q: want <executions>x<branches>, e.g. 100x20", s)
		}
	}
	return execs, branches
}

// fanWorkflow is start -> b1..bN in parallel -> join (join: all). Each branch calls the
// third-party server once with its execution id and branch number, so the server can count
// every action run; the output sums what the branches published, which only a correct join
// (all N branches' contexts merged, fired once) can produce.
func fanWorkflow(name string, branches int) string {
	var b strings.Builder
	var all, sum []string
	for i := 1; i <= branches; i++ {
		all = append(all, fmt.Sprintf("b%d", i))
		sum = append(sum, fmt.Sprintf("$.v%d", i))
	}
	fmt.Fprintf(&b, "version: '2.0'\n%s:\n  input:\n    - url\n  output:\n    total: <%% $.total %%>\n  tasks:\n", name)
	fmt.Fprintf(&b, "    start:\n      action: std.noop\n      on-success: [%s]\n", strings.Join(all, ", "))
	for i := 1; i <= branches; i++ {
		fmt.Fprintf(&b, `    b%d:
      action: std.http
      input:
        url: <%% $.url + '/hit/' + execution().id + '/b%d?n=%d' %%>
        timeout: 30
      publish:
        v%d: <%% task().result.content.n %%>
      on-success: [join]
`, i, i, i, i)
	}
	fmt.Fprintf(&b, "    join:\n      join: all\n      action: std.echo\n      input:\n        output: <%% %s %%>\n      publish:\n        total: <%% task().result %%>\n",
		strings.Join(sum, " + "))
	return b.String()
}

// TestLoadFanOutFanIn starts many fan-out/fan-in executions at once and checks that every one
// succeeds with the right join result and that every action ran exactly once.
func TestLoadFanOutFanIn(t *testing.T) {
	execs, branches := loadSize(t)
	name := wf("fan")
	register(t, fanWorkflow(name, branches))
	ctx := context.Background()
	// Start from quiet queues, so what is left afterwards is this test's.
	if err := waitQueuesDrained(ctx, time.Minute); err != nil {
		t.Fatalf("before the load: %v", err)
	}
	dlqBefore := dlqDepth(t)
	wantTotal := branches * (branches + 1) / 2
	tasksPerExec := branches + 2

	began := time.Now()
	ids := make([]string, execs)
	errs := make(chan error, execs)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8) // each POST is a cold-started api process on the emulator
	for i := range execs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			e, _, err := env.api.Start(ctx, name, map[string]any{"url": env.tp.URL}, fmt.Sprintf("fan-%s-%d", runID, i))
			if err != nil {
				errs <- err
				return
			}
			ids[i] = e.ID
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("starting %d executions: %v", execs, err)
	}
	started := time.Since(began)

	// One list call per poll (not one GET per execution: each request is a Lambda process).
	deadline := time.Now().Add(8 * time.Minute)
	var list []Execution
	for {
		var err error
		list, err = env.api.List(ctx, name, "")
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, e := range list {
			if Terminal(e.State) {
				done++
			}
		}
		if done == execs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s only %d of %d executions finished (%d listed)", time.Since(began).Round(time.Second), done, execs, len(list))
		}
		time.Sleep(2 * time.Second)
	}
	wall := time.Since(began)

	byID := map[string]Execution{}
	for _, e := range list {
		byID[e.ID] = e
	}
	bad := 0
	for _, id := range ids {
		e, ok := byID[id]
		switch {
		case !ok:
			t.Errorf("execution %s is missing from the list", id)
			bad++
		case e.State != "SUCCESS":
			bad++
			if bad <= 3 {
				full, _ := env.api.Get(ctx, id)
				t.Errorf("execution %s: %s (%s); tasks %s", id, e.State, e.StateInfo, TaskSummary(full))
			}
		case !jsonEqual(e.Output, map[string]any{"total": wantTotal}):
			bad++
			t.Errorf("execution %s: output %v, want total %d", id, e.Output, wantTotal)
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d executions did not succeed with the right output", bad, execs)
	}

	// Every branch action of every execution ran exactly once: the third party saw one call
	// per (execution, branch), and no call for anything else of this workflow.
	calls := env.tp.Snapshot()
	runs, dup, missing := 0, 0, 0
	for _, id := range ids {
		for b := 1; b <= branches; b++ {
			n := calls[fmt.Sprintf("%s/b%d", id, b)]
			runs += n
			switch {
			case n == 0:
				missing++
			case n > 1:
				dup++
				if dup <= 3 {
					t.Errorf("execution %s branch b%d ran %d times", id, b, n)
				}
			}
		}
	}
	if dup > 0 || missing > 0 {
		t.Fatalf("%d branch actions ran more than once and %d never ran (of %d)", dup, missing, execs*branches)
	}

	// The engine's own record agrees: spot-check a few executions' tasks, one attempt each.
	for _, id := range []string{ids[0], ids[execs/2], ids[execs-1]} {
		e, err := env.api.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Tasks) != tasksPerExec {
			t.Errorf("execution %s has %d tasks, want %d: %s", id, len(e.Tasks), tasksPerExec, TaskSummary(e))
		}
		for _, tk := range e.Tasks {
			if tk.State != "SUCCESS" || tk.Attempt != 1 {
				t.Errorf("execution %s task %s: %s attempt %d, want SUCCESS attempt 1", id, tk.Key, tk.State, tk.Attempt)
			}
		}
	}

	// Every message of a finished execution was deleted after one successful handling: the
	// queues drain at once. A handler whose successes SQS does not see (a batch response it
	// cannot read, an error after the work) leaves them in flight until they are redelivered,
	// and in the end moves healthy messages to the dead-letter queues.
	if err := waitQueuesDrained(ctx, 8*time.Second); err != nil {
		t.Errorf("after every execution finished: %v (messages were not deleted after success)", err)
	}
	if after := dlqDepth(t); after > dlqBefore {
		t.Errorf("the dead-letter queues grew from %d to %d messages during a load with no poison in it", dlqBefore, after)
	}

	tasks := execs * tasksPerExec
	figure("load: %d executions x %d tasks (%d-way fan-out + join) = %d tasks, %d counted action calls",
		execs, tasksPerExec, branches, tasks, runs)
	figure("load: started in %s, all SUCCESS after %s wall: %.1f tasks/s, %.2f executions/s",
		started.Round(100*time.Millisecond), wall.Round(100*time.Millisecond),
		float64(tasks)/wall.Seconds(), float64(execs)/wall.Seconds())
}

// queueDepth returns a queue's visible and in-flight message counts.
func queueDepth(ctx context.Context, url string) (visible, inFlight int, err error) {
	out, err := env.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		return 0, 0, fmt.Errorf("queue attributes of %s: %w", url, err)
	}
	visible, _ = strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	inFlight, _ = strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible, inFlight, nil
}

// waitQueuesDrained waits until the task and result queues hold no message at all.
func waitQueuesDrained(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var left []string
		for _, q := range []string{env.out.TaskQueueURL, env.out.ResultQueueURL} {
			v, f, err := queueDepth(ctx, q)
			if err != nil {
				return err
			}
			if v+f > 0 {
				left = append(left, fmt.Sprintf("%s: %d visible, %d in flight", q[strings.LastIndex(q, "/")+1:], v, f))
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("queues not empty after %s: %s", timeout, strings.Join(left, "; "))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// dlqDepth is the number of messages in both dead-letter queues.
func dlqDepth(t *testing.T) int {
	t.Helper()
	total := 0
	for _, q := range []string{env.out.TaskDLQURL, env.out.ResultDLQURL} {
		v, f, err := queueDepth(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		total += v + f
	}
	return total
}
