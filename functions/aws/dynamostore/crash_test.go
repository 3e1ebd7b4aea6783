package dynamostore_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/storetest"
	"github.com/lazyflow/lazyflow/functions/aws/dynamostore"
)

const crashChildEnv = "LAZYFLOW_DYNAMOSTORE_CRASH_CHILD"

// blockingSender stands for a queue the host never gets to: it says on
// stdout that the commit is done and the send has begun, then hangs until
// the parent kills the process.
type blockingSender struct{}

func (blockingSender) Send(ctx context.Context, body []byte, delay time.Duration) error {
	fmt.Println("COMMITTED-NOW-SENDING")
	_ = os.Stdout.Sync()
	select {}
}

// crashChild is the host process of TestCrashBetweenCommitAndEnqueue: it
// applies one result and is killed while enqueueing what follows.
func crashChild() int {
	var r engine.Result
	if err := json.Unmarshal([]byte(os.Getenv(crashChildEnv)), &r); err != nil {
		fmt.Fprintln(os.Stderr, "crash child: bad result:", err)
		return 2
	}
	st := dynamostore.New(ddbClient(os.Getenv("CRASH_ENDPOINT")), dynamostore.Options{Table: os.Getenv("CRASH_TABLE")})
	svc, _, _ := storetest.NewService(st)
	svc.Tasks, svc.Results = blockingSender{}, blockingSender{}
	if err := svc.TaskComplete(context.Background(), r); err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 3
	}
	fmt.Fprintln(os.Stderr, "crash child: the step sent nothing")
	return 4
}

// TestCrashBetweenCommitAndEnqueue: a host commits the completion of c0 in a
// fan-out workflow (start -> b0..b4 -> join) and is SIGKILLed before it
// enqueues the next tasks. Redelivering the same result to a fresh host
// sends them; the execution then finishes and no action is claimed (run)
// twice.
func TestCrashBetweenCommitAndEnqueue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st := newStore(t, ddbLocal, dynamostore.Options{})
	svc, tasks, _ := storetest.NewService(st)
	if _, err := svc.Register(ctx, "fan.yaml", []byte(storetest.FanInSource(5))); err != nil {
		t.Fatal(err)
	}
	e, _, err := svc.Start(ctx, startReq("fan"))
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]int{}
	// run is the runner: claim the attempt, "run" it, report its result.
	run := func(c engine.Command) *engine.Result {
		err := st.ClaimAttempt(ctx, store.ClaimParams{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt})
		if err != nil {
			return nil // claimed before: not run again
		}
		runs[c.Task]++
		return &engine.Result{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt, OK: true, Output: c.Task}
	}
	first := tasks.Runs(e.ID)
	if len(first) != 1 || first[0].Task != "start" {
		t.Fatalf("start sent %+v", first)
	}
	res := run(first[0])

	// The host that crashes.
	body, _ := json.Marshal(res)
	table := st.TableName()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), crashChildEnv+"="+string(body), "CRASH_ENDPOINT="+ddbLocal, "CRASH_TABLE="+table)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "COMMITTED-NOW-SENDING") {
				line <- sc.Text()
				return
			}
		}
		close(line)
	}()
	select {
	case l, ok := <-line:
		if !ok {
			_ = child.Wait()
			t.Fatal("the crashing host ended without reaching its first send")
		}
		_ = l
	case <-time.After(time.Minute):
		_ = child.Process.Kill()
		t.Fatal("the crashing host never reached its first send")
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()

	// The commit is in the table; nothing was sent.
	if tk, err := st.Task(ctx, e.ID, "b0"); err != nil || tk == nil || tk.State != engine.Running {
		t.Fatalf("after the crash, b0 is %+v (%v); the commit should have landed", tk, err)
	}
	if n := len(tasks.Runs(e.ID)); n != 1 {
		t.Fatalf("%d actions sent before redelivery", n)
	}

	// Redelivery to a fresh host, then the runner loop to the end; every
	// result is delivered twice.
	svc2, tasks2, _ := storetest.NewService(st)
	if err := svc2.TaskComplete(ctx, *res); err != nil {
		t.Fatal(err)
	}
	done := 0
	for round := 0; round < 20; round++ {
		cmds := tasks2.Runs(e.ID)
		if done == len(cmds) {
			break
		}
		for _, c := range cmds[done:] {
			if r := run(c); r != nil {
				for i := 0; i < 2; i++ {
					if err := svc2.TaskComplete(ctx, *r); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		done = len(cmds)
	}
	h, err := st.Execution(ctx, e.ID)
	if err != nil || h.State != engine.Success {
		t.Fatalf("execution after redelivery: %+v %v", h, err)
	}
	want := []string{"start", "b0", "b1", "b2", "b3", "b4", "join"}
	for _, k := range want {
		if runs[k] != 1 {
			t.Fatalf("task %s ran %d times (runs %v), want once", k, runs[k], runs)
		}
	}
	if len(runs) != len(want) {
		t.Fatalf("runs %v", runs)
	}
}
