package dynamostore_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store/storetest"
	"github.com/lazyflow/lazyflow/functions/aws/dynamostore"
)

// BenchmarkCompletion measures one task completion (TaskComplete: load,
// decide, commit, enqueue) against DynamoDB Local, on a chain and on a
// fan-in at 10, 100 and 1,000 tasks, and reports per completion: DynamoDB
// requests, consumed RCU/WCU, bytes written and p50/p99 latency. Run with
//
//	go test ./functions/aws/dynamostore -run '^$' -bench Completion -benchtime 1x
func BenchmarkCompletion(b *testing.B) {
	for _, shape := range []string{"chain", "fanin"} {
		for _, n := range []int{10, 100, 1000} {
			b.Run(fmt.Sprintf("%s-%d", shape, n), func(b *testing.B) { benchShape(b, shape, n) })
		}
	}
}

func benchShape(b *testing.B, shape string, n int) {
	ctx := context.Background()
	st := newStore(b, ddbLocal, dynamostore.Options{})
	svc, tasks, _ := storetest.NewService(st)
	src := storetest.ChainSource(n)
	if shape == "fanin" {
		src = storetest.FanInSource(n)
	}
	if _, err := svc.Register(ctx, shape+".yaml", []byte(src)); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	var total dynamostore.Snapshot
	completions := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		wf := map[string]string{"chain": "chain", "fanin": "fan"}[shape]
		e, _, err := svc.Start(ctx, startReq(wf))
		if err != nil {
			b.Fatal(err)
		}
		complete := func(task string, measure bool) {
			before := st.Stats.Snapshot()
			t0 := time.Now()
			if err := svc.TaskComplete(ctx, engine.Result{Exec: e.ID, Task: task, Slot: -1, Attempt: 1, OK: true, Output: task}); err != nil {
				b.Fatal(err)
			}
			if measure {
				lat = append(lat, time.Since(t0))
				d := st.Stats.Snapshot().Sub(before)
				total.Requests += d.Requests
				total.RCU += d.RCU
				total.WCU += d.WCU
				total.BytesWritten += d.BytesWritten
				completions++
			}
		}
		if shape == "chain" {
			for j := 0; j < n; j++ {
				complete(fmt.Sprintf("c%d", j), true)
			}
		} else {
			complete("start", false) // the fan-out itself: one step creating n tasks
			for j := 0; j < n; j++ {
				complete(fmt.Sprintf("b%d", j), true)
			}
			complete("join", true)
		}
		h, err := st.Execution(ctx, e.ID)
		if err != nil || h.State != engine.Success {
			b.Fatalf("execution ended %+v %v", h, err)
		}
		_ = tasks
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	per := float64(completions)
	b.ReportMetric(float64(total.Requests)/per, "req/completion")
	b.ReportMetric(total.RCU/per, "RCU/completion")
	b.ReportMetric(total.WCU/per, "WCU/completion")
	b.ReportMetric(float64(total.BytesWritten)/per, "B-written/completion")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}
