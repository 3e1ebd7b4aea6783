// Package chaos is Lazyflow's fault-injection harness: it runs randomly
// generated workflows through service.Service hosts over any store.Store
// while a fault schedule disturbs every boundary the hosts have, and checks
// that nothing is lost, doubled or left running.
//
// The boundaries and their faults:
//   - queues (Network): duplicate delivery, delivery in any order, a send
//     dropped after the step that made it committed, a host that crashes
//     between commit and send (the send fails, the message comes back);
//   - the store (Store): injected conflicts and throttling before a write,
//     and write responses lost after the write took effect;
//   - the process: `lazyflow serve` killed with SIGKILL and restarted on the
//     same data directory (the serve test in this package).
//
// Invariants checked for every generated case: each execution ends in the
// state its fault-free run ends in, with the same published values and
// output; every action attempt runs at most once (the test's actions count
// their own invocations, and a retry is a new attempt); nothing stays
// RUNNING; nothing panics.
//
// Files: faults.go (the fault schedule and its counts), store.go (the store
// wrapper), network.go (queues as pools the harness delivers from),
// workflows.go (the workflow generator), harness.go (one case: a fault-free
// run, a faulty run, the comparison), soak.go (the soak every driver's
// package runs), results.go (the soak's results file, with the rows of
// drivers soaked outside core/, such as DynamoDB Local).
package chaos
