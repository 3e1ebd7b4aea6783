package engine

import (
	"encoding/hex"
	"sort"

	"github.com/lazyflow/lazyflow/core/value"
)

// versionsKey holds, inside a branch context, how many times each key was
// published along the branch: Mistral's context versioning. When branches
// meet at a join, the value published more often (later) wins, so a value a
// branch published is not overwritten by another branch's stale copy of it.
// Top-level keys only (Mistral also versions the keys of nested maps).
const versionsKey = "__versions"

// keysKey holds, inside a branch context, the record key of the latest run
// of each task that ran in a cycle (see finishTask).
const keysKey = "__task_keys"

// roundsKey holds, inside a branch context, the latest round of each join
// in a cycle that the branch came through (see joinRound). Merges keep the
// highest, so a branch that met an older one on the way still knows it.
const roundsKey = "__join_rounds"

// bookkeeping reports whether k is one of the engine's own context keys,
// which expressions and outputs never see.
func bookkeeping(k string) bool { return k == versionsKey || k == keysKey || k == roundsKey }

func versionOf(ctx map[string]any, k string) int64 {
	// Read in place: a join asks for every key of every branch.
	var v any
	switch m := ctx[versionsKey].(type) {
	case map[string]any:
		v = m[k]
	case *value.Map:
		v = m.Value(k)
	}
	n, _ := v.(int64)
	if f, ok := v.(float64); ok {
		n = int64(f)
	}
	return n
}

// bumpVersions counts one more publication of each key of pub in ctx.
func bumpVersions(ctx map[string]any, pub []string) {
	old, _ := value.AsGoMap(ctx[versionsKey])
	vers := make(map[string]any, len(old)+len(pub))
	for k, v := range old {
		vers[k] = v
	}
	for _, k := range pub {
		vers[k] = versionOf(ctx, k) + 1
	}
	ctx[versionsKey] = vers
}

// mergeBranches merges branch contexts by version (ties: the later one in
// key order wins, which keeps the merge independent of arrival order).
func mergeBranches[C map[string]map[string]any | []map[string]any](ctxs C) map[string]any {
	var list []map[string]any
	var own map[string]any // arrivals: the arriving run of each branch's own task
	switch c := any(ctxs).(type) {
	case map[string]map[string]any:
		froms := make([]string, 0, len(c))
		for f := range c {
			froms = append(froms, f)
		}
		sort.Strings(froms)
		for _, f := range froms {
			list = append(list, c[f])
			if m, ok := value.AsGoMap(c[f][keysKey]); ok {
				if n := baseName(f); m[n] == f {
					if own == nil {
						own = map[string]any{}
					}
					own[n] = f
				}
			}
		}
	case []map[string]any:
		list = c
	}
	out := map[string]any{}
	vers := map[string]int64{}
	var keys, rounds map[string]any
	for _, ctx := range list {
		for k, v := range ctx {
			if k == versionsKey {
				continue
			}
			if k == roundsKey {
				if m, ok := value.AsGoMap(v); ok {
					if rounds == nil {
						rounds = map[string]any{}
					}
					for n, r := range m {
						cur, _ := rounds[n].(int64)
						if x, ok := r.(int64); ok && x > cur {
							rounds[n] = r
						}
					}
				}
				continue
			}
			if k == keysKey {
				// Each branch knows the latest runs on its own path; the
				// merge knows them all (task(name) after a join).
				if m, ok := value.AsGoMap(v); ok {
					if keys == nil {
						keys = map[string]any{}
					}
					for n, key := range m {
						keys[n] = key
					}
				}
				continue
			}
			n := versionOf(ctx, k)
			if _, seen := out[k]; !seen || n >= vers[k] {
				out[k], vers[k] = v, n
			}
		}
	}
	var kept map[string]any
	for k, n := range vers {
		if n > 0 {
			if kept == nil {
				kept = map[string]any{}
			}
			kept[k] = n
		}
	}
	if kept != nil {
		out[versionsKey] = kept
	}
	if keys != nil {
		// Another branch may carry an older run of a task whose latest run
		// is the one arriving here: the arriving run wins.
		for n, k := range own {
			keys[n] = k
		}
		out[keysKey] = keys
	}
	if rounds != nil {
		out[roundsKey] = rounds
	}
	return out
}

// baseName is the task name of a record key name#<12 hex digits> (a run in
// a cycle), or the key itself.
func baseName(key string) string {
	if i := len(key) - 13; i > 0 && key[i] == '#' {
		if _, err := hex.DecodeString(key[i+1:]); err == nil {
			return key[:i]
		}
	}
	return key
}

// plainCtx is a branch context without its bookkeeping.
func plainCtx(ctx map[string]any) map[string]any {
	out := make(map[string]any, len(ctx))
	for k, v := range ctx {
		if !bookkeeping(k) {
			out[k] = v
		}
	}
	return out
}
