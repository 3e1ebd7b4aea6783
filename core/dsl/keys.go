package dsl

// Keys each section accepts. The lists also feed "did you mean".
var (
	workbookKeys        = []string{"version", "name", "description", "tags", "workflows", "actions"}
	workflowKeys        = []string{"tasks", "type", "description", "tags", "input", "output", "output-on-error", "vars", "task-defaults", "name", "version"}
	actionKeys          = []string{"base", "base-input", "input", "output", "description", "tags", "name"}
	taskKeys            = taskKeyList[:]
	directOnlyTaskKeys  = []string{"on-success", "on-error", "on-complete", "on-skip", "join"}
	reverseOnlyTaskKeys = []string{"requires"}
	taskDefaultKeys     = []string{
		"retry", "wait-before", "wait-after", "timeout", "pause-before", "concurrency", "fail-on",
		"on-complete", "on-success", "on-error", "on-skip", "safe-rerun", "requires", "keep-result",
	}
	retryKeys   = []string{"count", "delay", "break-on", "continue-on"}
	publishKeys = []string{ScopeBranch, ScopeGlobal, ScopeAtomic}
	commands    = []string{CmdFail, CmdSucceed, CmdPause, CmdNoop}
)

// taskKeyList is taskKeys as an array, whose length sizes taskAttrs.
var taskKeyList = [...]string{
	"description", "type", "action", "workflow", "input", "publish", "publish-on-error", "publish-on-skip",
	"with-items", "concurrency", "retry", "timeout", "wait-before", "wait-after", "pause-before",
	"keep-result", "safe-rerun", "target", "fail-on", "tags", "name",
	"on-success", "on-error", "on-complete", "on-skip", "join", "requires",
}

// checkKeys reports keys not in known, with a suggestion.
func (l *loader) checkKeys(ps []pair, known []string, what string) {
	for _, p := range ps {
		if !contains(known, p.k.Value) {
			l.errf(p.k, "unknown key %q in %s%s", p.k.Value, what, suggest(p.k.Value, known))
		}
	}
}

// checkWorkflowKeys is checkKeys for a workflow's own keys, which Mistral
// does not check: a key close to a known one is a misspelling (an error,
// with the suggestion); any other is kept out of the way with a warning,
// as some workbooks park YAML anchors under keys of their own.
func (l *loader) checkWorkflowKeys(ps []pair, what string) {
	for _, p := range ps {
		if contains(workflowKeys, p.k.Value) {
			continue
		}
		if hint := suggest(p.k.Value, workflowKeys); hint != "" {
			l.errf(p.k, "unknown key %q in %s%s", p.k.Value, what, hint)
			continue
		}
		l.warnf(p.k, "unknown key %q in %s is ignored (as Mistral ignores it)", p.k.Value, what)
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
