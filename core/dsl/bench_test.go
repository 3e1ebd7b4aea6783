package dsl

import (
	"fmt"
	"strings"
	"testing"
)

// bigWorkflow builds a direct workflow of n tasks in a chain with fan-outs,
// conditions, publishes and policies, like a large generated definition.
func bigWorkflow(n int) []byte {
	var b strings.Builder
	b.WriteString("version: '2.0'\nbig:\n  input:\n    - x\n    - y: 1\n  task-defaults:\n    retry:\n      count: 2\n      delay: 1\n  tasks:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    t%d:\n      action: std.echo output=\"step %d\" n=<%% $.x %%>\n", i, i)
		fmt.Fprintf(&b, "      publish:\n        r%d: <%% task().result %%>\n        s%d: \"<%% $.x %%>-%d\"\n        j: \"{{ _.x }}\"\n", i, i, i)
		fmt.Fprintf(&b, "      timeout: 30\n")
		if i+2 < n {
			fmt.Fprintf(&b, "      on-success:\n        - t%d: <%% $.x > %d %%>\n        - t%d\n", i+1, i, i+2)
			fmt.Fprintf(&b, "      on-error:\n        - fail msg=\"t%d failed\"\n", i)
		} else if i+1 < n {
			fmt.Fprintf(&b, "      on-success: t%d\n", i+1)
		}
		if i >= 2 && i%2 == 0 {
			b.WriteString("      join: all\n")
		}
	}
	return []byte(b.String())
}

func BenchmarkLoad1000Tasks(b *testing.B) {
	src := bigWorkflow(1000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		doc, err := Load("big.yaml", src)
		if err != nil {
			b.Fatal(err)
		}
		if len(doc.Main().Tasks) != 1000 {
			b.Fatal("wrong task count")
		}
	}
	// Issue #2 states its target in milliseconds per load.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/load")
}

func TestBigWorkflowLoads(t *testing.T) {
	doc, err := Load("big.yaml", bigWorkflow(50))
	if err != nil {
		t.Fatal(err)
	}
	wf := doc.Main()
	if len(wf.StartTasks) != 1 || wf.StartTasks[0] != "t0" {
		t.Fatalf("start tasks %v", wf.StartTasks)
	}
	if got := wf.Inbound["t4"]; len(got) != 2 || got[0] != "t2" || got[1] != "t3" {
		t.Fatalf("inbound of t4 = %v", got)
	}
}
