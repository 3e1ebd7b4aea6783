package embedded_test

import (
	"github.com/lazyflow/lazyflow/core/service"

	"github.com/lazyflow/lazyflow/core/value"
)

func serviceStart(wf string, input map[string]any) service.StartRequest {
	return service.StartRequest{Workflow: wf, Input: value.MapOf(input)}
}
