package expr

import (
	"fmt"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
)

// A {% macro %} may call itself; each call is a step, and calls may nest
// maxMacroDepth deep, which keeps a runaway recursion from exhausting the
// stack long before the step budget would stop it.
const maxMacroDepth = 100

const (
	enterName = "__lf_enter"
	leaveName = "__lf_leave"
)

// guardMacro brackets a macro's body with the enter and leave hooks.
func guardMacro(m *nodes.Macro) {
	if m.Wrapper == nil {
		return
	}
	body := append([]nodes.Node{hookNode(enterName)}, m.Wrapper.Nodes...)
	m.Wrapper.Nodes = append(body, hookNode(leaveName))
}

func macroEnter(e *exec.Evaluator, _ *exec.VarArgs) (string, error) {
	b := budgetOf(e)
	if b == nil {
		return "", nil
	}
	if err := b.tick(); err != nil {
		return "", err
	}
	b.depth++
	if b.depth > maxMacroDepth {
		return "", fmt.Errorf("%w: macro calls nested deeper than %d", ErrLimit, maxMacroDepth)
	}
	return "", nil
}

func macroLeave(e *exec.Evaluator, _ *exec.VarArgs) (string, error) {
	if b := budgetOf(e); b != nil {
		b.depth--
	}
	return "", nil
}
