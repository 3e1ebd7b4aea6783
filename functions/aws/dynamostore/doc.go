// Package dynamostore is Lazyflow's DynamoDB store: a store.Driver over one
// table, behind store.Open's portable checks (New returns both), with the engine's ops mapped to DynamoDB's own conditional writes so
// that any number of engine hosts can work on one execution at once and the
// table, not a lock, decides who wins.
//
// # Table
//
// One table; key pk (S) + sk (S); TTL attribute ttl; two global secondary
// indexes with ALL projection: byWorkflow (gsi1pk, gsi1sk) and byState
// (gsi2pk, gsi2sk). Items are keyed by package store's key scheme
// (core/store/keys.go); an execution's items share its partition key:
//
//	pk       sk                    item
//	<exec>   H                     the head (one per execution)
//	<exec>   T#<task key>          a task execution (name, or name#hash in a cycle)
//	<exec>   S#<task key>#<index>  one with-items slot (index zero-padded to 8)
//	<exec>   L#<seq>#<task key>    a branch end, for the final context (seq zero-padded to 12)
//	~def     N#<name>              the current definition of a workflow
//	~def     I#<def id>            a definition by content id (never replaced)
//
// # Attributes
//
// Every item keeps its record as JSON in d (a string), except the fields
// that other writers change concurrently, which live in top-level attributes
// so DynamoDB can add to them or test them server-side; reads merge them back
// into the record:
//
//	v         N  version; +1 on every change, the condition of versioned puts
//	st        S  state (head, task, slot), for conditions and the byState index
//	active, errors, seq, sp   N  head counters (AddExecution is ADD on these)
//	ei        S  head: first unhandled error (if_not_exists)
//	attempt, claimed      N  task/slot: current attempt, highest claimed attempt
//	pnd       S  task: why a task waits (absent when it does not)
//	done, failed          N  with-items counters (AddItems is ADD on these)
//	a:<from>  S  one join arrival: the inbound task's outbound context (JSON)
//	gsi1pk = "WF#<workflow>", gsi2pk = "ST#<state>",
//	gsi1sk = gsi2sk = "<created, UTC, fixed-width RFC 3339 with ns>#<id>"  (head only)
//	ttl       N  head of a finished execution: epoch seconds it may be deleted
//
// # Writes
//
// A commit of one op is one conditional PutItem or UpdateItem; several ops
// are one TransactWriteItems (at most 100 items; a larger commit is refused
// with an error rather than split, because splitting would break its
// atomicity — the engine's steps write a handful of items). A lone
// AddExecution or AddItems also goes through a transaction, whose client
// token makes the SDK's own retries idempotent; a lone ADD retried after a
// lost response would count twice.
//
//	PutExecution  PutItem, condition attribute_not_exists(pk) or v = :ifv
//	AddExecution  UpdateItem ADD active, errors, seq, sp, v; SET ei = if_not_exists(ei); condition st = :ifState
//	SetState      UpdateItem SET st, si, gsi2pk, ut (ttl) ADD active, errors, seq, v (REMOVE ei);
//	              condition st = :ifState; st, si and ut override the document's copies
//	              (a lone one is a single write: its token tells a retry it landed)
//	PutTask       new: PutItem, condition attribute_not_exists(pk);
//	              else UpdateItem SET d, st, attempt, pnd, done, failed, v; condition v = :ifv
//	              (claimed and arrived are left to their own writers: a claim is
//	              not a versioned change, and the version test proves the writer
//	              saw every arrival)
//	AddItems      UpdateItem ADD done, failed, v; condition st = RUNNING
//	PutArrival    PutItem <exec> / A#<join>\x00<from> holding the branch's context;
//	              condition attribute_not_exists(pk)
//	CountArrival  UpdateItem SET d = if_not_exists(d, :waitingRecord) ADD arrived (its count), v
//	              (the join's context is read from its arrival items once, when it fires)
//	PutSlot       as PutTask
//	PutLeaf       PutItem without condition (same step, same leaf)
//	ClaimAttempt  UpdateItem SET claimed = :a; condition st = RUNNING AND attempt = :a
//	              AND claimed < :a (AND attribute_not_exists(pnd) for tasks)
//
// So parallel branches never conflict on their joins' or their head's
// counters: each is an ADD or a SET of a distinct attribute, and the only
// versioned write on a join — its firing — conflicts with any arrival it did
// not see. (Inside a transaction, DynamoDB may still cancel two transactions
// that touch the same item at the same moment: that is reported as a
// conflict and the host recomputes.) All reads are strongly consistent
// (ConsistentRead), so a host always computes from the latest commit; only
// ListExecutions reads the indexes, which are eventually consistent.
//
// # Large values
//
// A record's JSON (or one arrival's) larger than Options.OffloadAt (default
// 64 KiB) is written to S3 through Options.Blobs under its SHA-256 and the
// attribute holds a map {ref: key, n: size} instead; reads fetch it back. A
// value over Options.MaxValue (default 4 MiB), or over what an item can
// hold when there is no blob store, is refused with store.ErrTooLarge before
// anything is written. Join arrivals are items of their own, so no item
// grows with the number of branches.
//
// # Retention
//
// PurgeExecutions, which the sweeper function calls on its schedule,
// deletes finished executions last updated more than Retention (default 30
// days) ago: it queries byState for each finished state below the cutoff,
// checks the head itself (the index lags), and deletes every item of the
// execution's partition, commit markers included, the head last, so a
// purge cut short is finished by the next one. When a head is written in a
// terminal state it also gets ttl = now + Retention + 7 days: a backstop
// for a head the sweeper never reached, late enough not to orphan the
// other items by expiring first. Offloaded values in S3 are content-
// addressed and may be shared, so they are left to the bucket's lifecycle
// rule.
//
// # Errors
//
// Condition failures, cancelled transactions whose reasons are condition
// failures or transaction conflicts, and TransactionConflict are
// store.ErrConflict: the host reloads and recomputes. Throttling, 5xx and
// network errors are retried here with bounded, jittered backoff (on top of
// the SDK's own retries), then reported as store.ErrUnavailable. Errors
// carry the operation, table and DynamoDB error code, never a raw SDK error.
//
// # Accounting
//
// Store.Stats counts requests, consumed read and write capacity
// (ReturnConsumedCapacity TOTAL), bytes written and retries.
package dynamostore
