// Package dsl loads, validates and compiles workflow definitions written in
// OpenStack Mistral's v2 language: single workflows and workbooks with
// ad-hoc actions. The result is a compiled graph the engine uses directly:
// every expression is compiled once here, never on the engine's hot path.
//
// Loading goes in one pass from YAML to a Document. Load (or LoadWith, which
// can add an ActionCatalog) parses the text into yaml.v3 nodes (yamlsplit.go
// parses a large tasks mapping on several cores), then a loader walks the
// nodes (yamlnode.go: duplicate and merge keys, the alias expansion budget)
// and builds the spec types of spec.go: the top level and workbook sections,
// each workflow, its task-defaults and tasks (workbook.go, task.go;
// parallel.go reads a large workflow's tasks on several cores), checking
// every key against what Mistral accepts (keys.go) and reading policies,
// publish and transitions (policies.go, publish.go, transitions.go). Each
// expression is compiled as it is read (expressions.go). Then the task graph
// of each workflow is checked (graph.go) and the calls between workflows and
// actions (calls.go: required inputs, ad-hoc action chains, the catalog's
// actions). Only YAML that does not parse, or is not a mapping, stops the
// walk: every other problem is recorded with its position (file:line:column,
// the node that holds it), so that one load reports them all, sorted by
// position, as Errors. When there is none Load returns the Document, whose
// Warnings list what Mistral accepts but looks like a mistake. Load never
// panics: a panic while loading is returned as an internal error.
package dsl
