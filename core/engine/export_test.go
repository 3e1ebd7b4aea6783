package engine

// ItemEvaluations is how many times e evaluated with-items expressions.
func (e *Engine) ItemEvaluations() int64 { return e.itemCache.evals.Load() }

// DisableItemCache makes e evaluate with-items expressions on every step.
func (e *Engine) DisableItemCache() { e.itemCache.off = true }
