package engine

import (
	"fmt"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/value"
)

// shouldRetry applies the retry policy. Mistral's count is the number of
// extra attempts; break-on stops retrying, continue-on retries even a success.
func (b *builder) shouldRetry(rec *Task, t *dsl.Task, ok bool, output any, errMsg string) (bool, float64, error) {
	if t.Retry == nil {
		return false, 0, nil
	}
	resCtx := b.retryScope(rec, t, ok, output, errMsg)
	count, err := intOf(t.Retry.Count, resCtx)
	if err != nil {
		return false, 0, fmt.Errorf("retry count of task %s: %w", t.Name, err)
	}
	if rec.Attempt-rec.Reruns > count {
		return false, 0, nil
	}
	if ok {
		if t.Retry.ContinueOn == nil {
			return false, 0, nil
		}
		cont, err := truth(t.Retry.ContinueOn, resCtx)
		if err != nil || !cont {
			return false, 0, err
		}
	} else if t.Retry.BreakOn != nil {
		brk, err := truth(t.Retry.BreakOn, resCtx)
		if err != nil || brk {
			return false, 0, err
		}
	}
	delay, err := floatOf(t.Retry.Delay, resCtx)
	if err == nil {
		delay, err = inRange(delay)
	}
	if err != nil {
		return false, 0, fmt.Errorf("retry delay of task %s: %w", t.Name, err)
	}
	return true, delay, nil
}

// retryScope is what the retry policy's expressions see: as in Mistral
// 23.0.0, the task's outbound context, with what the attempt would
// publish (publish or publish-on-error). A publish that cannot be
// evaluated yet leaves the inbound context.
func (b *builder) retryScope(rec *Task, t *dsl.Task, ok bool, output any, errMsg string) *scope {
	cur := resultOf(ok, output, errMsg)
	base := b.scopeWith(rec.Ctx, rec, cur)
	pub := t.Publish
	if !ok {
		pub = t.PublishOnError
	}
	if pub == nil {
		return base
	}
	v, err := base.eval(pub)
	m, isMap := value.AsMap(v)
	if err != nil || !isMap || m.Len() == 0 {
		return base
	}
	ctx := copyMap(rec.Ctx)
	ctx.Update(m)
	return b.scopeWith(ctx, rec, cur)
}

// maxReruns bounds safe-rerun, so an action that kills its runner every
// time does not run forever.
const maxReruns = 3

func (b *builder) safeRerun(rec *Task, t *dsl.Task) (bool, error) {
	if t.SafeRerunExpr == nil {
		return t.SafeRerun, nil
	}
	v, err := truth(t.SafeRerunExpr, b.scope(rec.Ctx, rec))
	if err != nil {
		return false, fmt.Errorf("safe-rerun of task %s: %w", t.Name, err)
	}
	return v, nil
}
