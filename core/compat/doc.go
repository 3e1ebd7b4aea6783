// Package compat holds the differential test tier against the real OpenStack
// Mistral 23.0.0.
//
// The corpus (corpus/cases.json) is extracted by extract.py from Mistral's own
// engine unit tests and its resources/ workbooks: each case is the YAML a test
// loads, the workflow it starts and the input and params it passes; the
// lazyflow.order.* cases are Lazyflow's own (extract.py's ORDER_CASES), for
// which both sides also write the key order of the output and of the
// published values (the results' "order"), compared too. oracle.py
// runs every comparable case on Mistral in one process (SQLite in memory, fake
// transport, local executor, as Mistral's EngineTestCase) and writes its
// results in the contract of `lazyflow run --json`; mistral-results.json is
// the checked-in copy of that run. The lazyflow.draw.* cases (extract.py's
// DRAW_CASES) pin what TestWorkflowDraws found. The Go test runs Lazyflow embedded on the
// same cases and compares state, every task's name/states/count, published
// values, output and the user-written state_info.
//
// baseline.txt lists the cases that agree: a listed case that differs fails
// the tier, a known difference does not. mistral.md is the generated table.
// `make test-mistral` installs the oracle (install.sh), runs it fresh over the
// whole corpus and runs the comparison on its results; with -update the test
// rewrites mistral.md and baseline.txt.
package compat
