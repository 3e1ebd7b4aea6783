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

func versionOf(ctx *value.Map, k string) int64 {
	// Read in place: a join asks for every key of every branch.
	var v any
	switch m := ctx.Value(versionsKey).(type) {
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
func bumpVersions(ctx *value.Map, pub []string) {
	vers := copyMap(ctx.Value(versionsKey))
	for _, k := range pub {
		vers.Set(k, versionOf(ctx, k)+1)
	}
	ctx.Set(versionsKey, vers)
}

// copyMap is a shallow copy of a dict of either shape, or an empty Map.
func copyMap(v any) *value.Map {
	if m, ok := v.(*value.Map); ok && m != nil {
		return m.Clone()
	}
	if m, ok := v.(map[string]any); ok {
		return value.MapOf(m)
	}
	return value.NewMap(2)
}

// mergeBranches merges branch contexts by version (ties: the later one in
// key order wins, which keeps the merge independent of arrival order). A
// key keeps the place where the first context of ctxs (in key order) set
// it, as Python's dict merge does.
func mergeBranches[C map[string]*value.Map | []*value.Map](ctxs C) *value.Map {
	var list []*value.Map
	var own map[string]any // arrivals: the arriving run of each branch's own task
	switch c := any(ctxs).(type) {
	case map[string]*value.Map:
		froms := make([]string, 0, len(c))
		for f := range c {
			froms = append(froms, f)
		}
		sort.Strings(froms)
		for _, f := range froms {
			list = append(list, c[f])
			if m, ok := value.AsGoMap(c[f].Value(keysKey)); ok {
				if n := baseName(f); m[n] == f {
					if own == nil {
						own = map[string]any{}
					}
					own[n] = f
				}
			}
		}
	case []*value.Map:
		list = c
	}
	return mergeList(list, own)
}

func mergeList(list []*value.Map, own map[string]any) *value.Map {
	out := value.NewMap(4)
	vers := map[string]int64{}
	var keys, rounds *value.Map
	for _, ctx := range list {
		for k, v := range ctx.All() {
			switch k {
			case versionsKey:
			case roundsKey:
				rounds = mergeRounds(rounds, v)
			case keysKey:
				// Each branch knows the latest runs on its own path; the
				// merge knows them all (task(name) after a join).
				if m, ok := value.AsMap(v); ok {
					if keys == nil {
						keys = value.NewMap(m.Len())
					}
					keys.Update(m)
				}
			default:
				n := versionOf(ctx, k)
				if seen := out.Has(k); !seen || n >= vers[k] {
					out.Set(k, v)
					vers[k] = n
				}
			}
		}
	}
	var kept *value.Map
	for k := range out.All() {
		if n := vers[k]; n > 0 {
			if kept == nil {
				kept = value.NewMap(len(vers))
			}
			kept.Set(k, n)
		}
	}
	if kept != nil {
		out.Set(versionsKey, kept)
	}
	if keys != nil {
		// Another branch may carry an older run of a task whose latest run
		// is the one arriving here: the arriving run wins.
		for n, k := range own {
			keys.Set(n, k)
		}
		out.Set(keysKey, keys)
	}
	if rounds != nil {
		out.Set(roundsKey, rounds)
	}
	return out
}

// mergeRounds keeps the highest round of each join of v in rounds.
func mergeRounds(rounds *value.Map, v any) *value.Map {
	m, ok := value.AsMap(v)
	if !ok {
		return rounds
	}
	if rounds == nil {
		rounds = value.NewMap(m.Len())
	}
	for n, r := range m.All() {
		cur, _ := rounds.Value(n).(int64)
		if x, ok := r.(int64); ok && x > cur {
			rounds.Set(n, r)
		}
	}
	return rounds
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

// plainCtx is a branch context without its bookkeeping, in its order.
func plainCtx(ctx *value.Map) *value.Map {
	out := value.NewMap(ctx.Len())
	for k, v := range ctx.All() {
		if !bookkeeping(k) {
			out.Set(k, v)
		}
	}
	return out
}
