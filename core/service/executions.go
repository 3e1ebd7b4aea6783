package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

// StartRequest asks for a new execution.
type StartRequest struct {
	Workflow string
	// Input keeps the order the client gave it in: the execution shows it so.
	Input *value.Map
	Env   *value.Map // in the order the client gave it, as env() shows it
	// EnvName names a stored environment whose variables are the env, read
	// once at start (as Mistral resolves a named env); Env must be empty.
	EnvName        string
	Target         string // reverse workflows
	IdempotencyKey string
	// ID, when set, is the execution's id (a client-chosen one, as Mistral's
	// API allows): a repeat with the same id finds the first execution.
	ID string
	// DefID pins a definition (used for sub-workflows); default: the current one of Workflow.
	DefID string
}

// Start starts an execution. With an idempotency key the execution id is
// derived from the key, so a repeated request finds the first execution
// (created=false) instead of making a second one.
func (s *Service) Start(ctx context.Context, r StartRequest) (exec *engine.Execution, created bool, err error) {
	defID := r.DefID
	if defID == "" {
		def, err := s.Store.Definition(ctx, r.Workflow)
		if err != nil {
			return nil, false, s.notFoundWorkflow(ctx, r.Workflow, err)
		}
		defID = def.DefID
	}
	if r.EnvName != "" {
		if r.Env.Len() > 0 {
			return nil, false, fmt.Errorf("%w: give an env by name or as variables, not both", engine.ErrInvalidInput)
		}
		env, err := s.Store.Environment(ctx, r.EnvName)
		if err != nil {
			return nil, false, fmt.Errorf("env %q: %w", r.EnvName, err)
		}
		r.Env = env.Variables
	}
	id := newID()
	if r.ID != "" {
		id = r.ID
	}
	// Go callers pass ints and nested typed maps; the engine sees only JSON-like values.
	input := value.NewMap(0)
	if r.Input != nil {
		input = value.Normalize(r.Input).(*value.Map)
	}
	var env *value.Map
	if r.Env.Len() > 0 {
		env = value.Normalize(r.Env).(*value.Map)
	}
	sp := engine.StartParams{ID: id, DefID: defID, Workflow: r.Workflow, Input: input,
		Env: env, Target: r.Target, IdempotencyKey: r.IdempotencyKey}
	if r.IdempotencyKey != "" {
		sp.ID = "ex-" + hashKey(r.Workflow+"\x00"+r.IdempotencyKey)
		// Keys sorted at every level, so equal requests hash equal.
		req, _ := json.Marshal(value.SortKeys([]any{r.Workflow, input, env, r.Target}))
		sp.RequestHash = hashKey(string(req))
	}
	return s.startID(ctx, sp.ID, sp)
}

// sameRequest refuses an execution found under an idempotent start's id
// that another request created. The head written by the start that won the
// conditional create holds that request's hash, so every path that finds an
// existing execution (the first read, or the conflict of a start that lost
// the race) checks it against its own.
func sameRequest(cur *engine.Execution, sp engine.StartParams) error {
	if sp.IdempotencyKey == "" || cur.RequestHash == sp.RequestHash {
		return nil
	}
	return fmt.Errorf("%w: execution %s was started with this key and a different request", ErrIdempotencyMismatch, cur.ID)
}

func (s *Service) startID(ctx context.Context, id string, sp engine.StartParams) (*engine.Execution, bool, error) {
	if cur, err := s.Store.Execution(ctx, id); err != nil {
		return nil, false, err
	} else if cur != nil {
		if err := sameRequest(cur, sp); err != nil {
			return nil, false, err
		}
		// A repeat: make sure its first tasks were sent (the first request
		// may have died between its commit and its sends), that a
		// finished sub-workflow's parent heard of its end, and that a
		// sub-workflow its parent's pause left paused runs with its parent
		// again (the parent's sweep re-sends this start).
		if err := s.carry(ctx, id, &engine.Plan{Commands: engine.ParentReport(cur)}); err != nil {
			return cur, false, err
		}
		if cur.State == engine.Paused && cur.Parent != "" {
			if _, err := s.apply(ctx, id, "resume", func() (*engine.Plan, error) { return s.Engine.ResumeWithParent(ctx, s.reader(), id) }); err != nil {
				return cur, false, err
			}
		}
		return cur, false, s.Recover(ctx, id)
	}
	p, err := s.Engine.Start(ctx, s.reader(), sp)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", errStartRefused, err)
	}
	ctx = s.WithInlineBudget(ctx) // before the commit, which leaves out what runs inline
	sent, err := s.commit(ctx, p, nil)
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			cur, gerr := s.Store.Execution(ctx, id)
			if gerr == nil && cur != nil {
				if err := sameRequest(cur, sp); err != nil {
					return nil, false, err
				}
				return cur, false, nil
			}
		}
		return nil, false, fmt.Errorf("commit start of %s: %w", id, err)
	}
	s.step("start", len(p.Ops))
	s.Log.Info("execution started", "execution_id", id, "workflow", sp.Workflow)
	if err := s.carryRest(ctx, id, p, sent); err != nil {
		return p.Exec, true, err
	}
	return p.Exec, true, nil
}

// errStartRefused marks an execution the engine would not start (unknown
// workflow, bad input): no retry can change that.
var errStartRefused = errors.New("execution refused")

// ErrIdempotencyMismatch: an idempotency key was reused for a different request.
var ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "ex-" + hex.EncodeToString(b[:])
}

func hashKey(s string) string { return engine.DefID([]byte(s)) }
