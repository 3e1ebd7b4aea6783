// Command lfload drives a running Lazyflow API (`make run`, `lazyflow
// serve`) with many concurrent std.noop chains and prints the throughput
// and the step latency it saw, as one JSON line:
//
//	go run ./bench/cmd/lfload -url http://127.0.0.1:8080 -chains 50 -tasks 200
//
// Throughput is every task of every chain divided by the wall time from the
// first start request to the last execution seen ending. Step latency is a
// task's finished minus started time as the store recorded it: from the
// commit that scheduled the task to the commit that applied its result.
// The executions' ends are watched with one list request every 20 ms, so the
// driver's own load on the server stays small.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "base URL of the API")
	chains := flag.Int("chains", 50, "concurrent executions")
	tasks := flag.Int("tasks", 200, "std.noop tasks per chain")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	res, err := run(ctx, *url, *chains, *tasks)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lfload:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

type result struct {
	Chains      int     `json:"chains"`
	Tasks       int     `json:"tasks_per_chain"`
	WallSeconds float64 `json:"wall_s"`
	TasksPerSec float64 `json:"tasks_per_s"`
	StepP50ms   float64 `json:"step_p50_ms"`
	StepP99ms   float64 `json:"step_p99_ms"`
}

// chainYAML is a workflow of n std.noop tasks, each starting the next.
func chainYAML(name string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: '2.0'\n%s:\n  tasks:\n", name)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    t%d:\n      action: std.noop\n", i)
		if i+1 < n {
			fmt.Fprintf(&b, "      on-success: [t%d]\n", i+1)
		}
	}
	return b.String()
}

type task struct {
	State    string    `json:"state"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
}

type execution struct {
	ID    string `json:"id"`
	State string `json:"state"`
	Tasks []task `json:"tasks"`
}

func call(ctx context.Context, method, url, ctype string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func run(ctx context.Context, base string, chains, n int) (*result, error) {
	name := fmt.Sprintf("lfload_chain_%d_%d", n, time.Now().UnixNano())
	if err := call(ctx, "POST", base+"/workflows", "text/yaml", []byte(chainYAML(name, n)), nil); err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	t0 := time.Now()
	ids := make([]string, chains)
	var wg sync.WaitGroup
	errs := make([]error, chains)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ex execution
			errs[i] = call(ctx, "POST", base+"/executions", "application/json", []byte(`{"workflow":"`+name+`"}`), &ex)
			ids[i] = ex.ID
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	// One light poll for all: the list of this workflow's executions.
	for {
		var page struct {
			Executions []execution `json:"executions"`
		}
		if err := call(ctx, "GET", fmt.Sprintf("%s/executions?workflow=%s&limit=%d", base, name, chains), "", nil, &page); err != nil {
			return nil, err
		}
		ended := 0
		for _, e := range page.Executions {
			if e.State != "RUNNING" && e.State != "IDLE" {
				ended++
			}
		}
		if ended == chains {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%d of %d executions ended: %w", ended, chains, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	wall := time.Since(t0)
	var steps []time.Duration
	for _, id := range ids {
		var ex execution
		if err := call(ctx, "GET", base+"/executions/"+id, "", nil, &ex); err != nil {
			return nil, err
		}
		if ex.State != "SUCCESS" || len(ex.Tasks) != n {
			return nil, fmt.Errorf("execution %s ended %s with %d of %d tasks", ex.ID, ex.State, len(ex.Tasks), n)
		}
		for _, t := range ex.Tasks {
			if t.State != "SUCCESS" {
				return nil, fmt.Errorf("execution %s: a task ended %s", ex.ID, t.State)
			}
			steps = append(steps, t.Finished.Sub(t.Started))
		}
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
	ms := func(q float64) float64 {
		return float64(steps[int(q*float64(len(steps)-1))]) / float64(time.Millisecond)
	}
	return &result{Chains: chains, Tasks: n, WallSeconds: wall.Seconds(),
		TasksPerSec: float64(chains*n) / wall.Seconds(), StepP50ms: ms(0.5), StepP99ms: ms(0.99)}, nil
}
