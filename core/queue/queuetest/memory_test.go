package queuetest_test

import (
	"testing"

	"github.com/lazyflow/lazyflow/core/queue"
	"github.com/lazyflow/lazyflow/core/queue/queuetest"
)

func TestMemory(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, func(t *testing.T, opt queuetest.Options) queuetest.Queues {
		var qs queuetest.Queues
		mo := queue.MemoryOptions{Visibility: opt.Visibility, MaxReceives: opt.MaxReceives}
		if opt.MaxReceives > 0 {
			dlq := queue.NewMemory(queue.MemoryOptions{Visibility: opt.Visibility})
			t.Cleanup(func() { _ = dlq.Close() })
			mo.DLQ, qs.DLQ = dlq, dlq
		}
		q := queue.NewMemory(mo)
		t.Cleanup(func() { _ = q.Close() })
		qs.Queue = q
		return qs
	})
}
