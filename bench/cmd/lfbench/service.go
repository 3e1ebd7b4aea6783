package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/localstack/e2e"
)

// runService times the shape on the stack deployed to the emulator. The
// endpoint and credentials come from the environment (AWS_ENDPOINT_URL and
// the rest of .cache/localstack/env, which bench/run loads).
func runService(outputs, file, inputJSON string, pol repeatPolicy, timeout time.Duration, res *result) error {
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if endpoint == "" {
		return fmt.Errorf("AWS_ENDPOINT_URL is not set: start the emulator (make local-up) and load .cache/localstack/env")
	}
	out, err := e2e.LoadOutputs(outputs)
	if err != nil {
		return err
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	doc, err := dsl.Load(filepath.Base(file), src)
	if err != nil {
		return err
	}
	var input map[string]any
	if err := json.Unmarshal([]byte(inputJSON), &input); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("AWS config: %w", err)
	}
	api := e2e.NewClient(endpoint, out.APIID, cfg.Region, cfg.Credentials)
	api.HTTP.Timeout = 5 * time.Minute // a poll of a 1,000-task execution returns every task
	if err := api.RegisterWorkflow(ctx, string(src)); err != nil {
		return err
	}
	for i := 0; pol.more(res.Walls); i++ {
		wall, err := serviceRep(ctx, api, doc.Main().Name, input, timeout)
		if errors.Is(err, errTimedOut) {
			res.TimedOut = timeout.Seconds()
		}
		if err != nil {
			return fmt.Errorf("repetition %d: %w", i+1, err)
		}
		res.Walls = append(res.Walls, wall.Seconds())
	}
	res.Note = "emulator (MiniStack) figures, not AWS figures; peak RSS not measured (the functions run as separate processes)"
	return nil
}

func serviceRep(ctx context.Context, api *e2e.Client, wf string, input map[string]any, timeout time.Duration) (time.Duration, error) {
	t0 := time.Now()
	ex, _, err := api.Start(ctx, wf, input, "")
	if err != nil {
		return 0, err
	}
	deadline := t0.Add(timeout)
	for {
		e, err := api.Get(ctx, ex.ID)
		if err != nil {
			return 0, err
		}
		if e2e.Terminal(e.State) {
			wall := time.Since(t0)
			if e.State != "SUCCESS" {
				return 0, fmt.Errorf("execution %s ended %s: %s", e.ID, e.State, e.StateInfo)
			}
			for _, t := range e.Tasks {
				if t.State != "SUCCESS" {
					return 0, fmt.Errorf("task %s ended %s", t.Key, t.State)
				}
			}
			return wall, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("execution %s still %s after %s (tasks: %s): %w", e.ID, e.State, timeout, strings.Join(summary(e), ", "), errTimedOut)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var errTimedOut = errors.New("timed out")

// summary counts the tasks by state, for a timeout message.
func summary(e e2e.Execution) []string {
	n := map[string]int{}
	for _, t := range e.Tasks {
		n[t.State]++
	}
	var out []string
	for s, c := range n {
		out = append(out, fmt.Sprintf("%d %s", c, s))
	}
	return out
}
