package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/lazyflow/lazyflow/core/callback"
	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
)

// Error is the one error shape every route answers with, inside {"error": ...}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field names the offending JSON field or parameter ("input", "workflow", "limit").
	Field string `json:"field,omitempty"`
	// Problems lists every problem of an invalid workflow definition, each
	// with its file:line:column, so a user fixes all of them in one round.
	Problems []Problem `json:"problems,omitempty"`
}

// Problem is one positioned problem in a workflow definition.
type Problem struct {
	At      string `json:"at"` // file:line:column
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

type errorBody struct {
	Error *Error `json:"error"`
}

func errf(status int, code, field, format string, a ...any) *Error {
	return &Error{Status: status, Code: code, Field: field, Message: fmt.Sprintf(format, a...)}
}

// Error codes.
const (
	CodeBadRequest       = "bad_request"
	CodeInvalidJSON      = "invalid_json"
	CodeInvalidWorkflow  = "invalid_workflow"
	CodeInvalidInput     = "invalid_input"
	CodeNotFound         = "not_found"
	CodeConflict         = "conflict"
	CodeInvalidState     = "invalid_state"
	CodeTooLarge         = "too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeCallbackForged   = "callback_forged"
	CodeCallbackExpired  = "callback_expired"
	CodeCallbackStale    = "callback_stale"
	CodeUnavailable      = "unavailable"
	CodeInternal         = "internal"
)

// Classify is the API's error for an error from core (its status and a
// message fit to show), for front ends that answer in another shape.
func Classify(err error) *Error { return classify(err, "") }

// classify turns an error from core into the API's error. field is the
// request field the operation was about, used when the error concerns input.
func classify(err error, field string) *Error {
	var ae *Error
	var des dsl.Errors
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &tooBig):
		return errf(http.StatusRequestEntityTooLarge, CodeTooLarge, "", "request body is larger than the limit of %d bytes", tooBig.Limit)
	case errors.As(err, &des):
		return definitionError(des)
	case errors.Is(err, service.ErrIdempotencyMismatch):
		return errf(http.StatusConflict, CodeConflict, "Idempotency-Key", "%v; use a new key for a new request", err)
	case errors.Is(err, service.ErrCallbackStale):
		return errf(http.StatusConflict, CodeCallbackStale, "token", "%v: the attempt was already completed, retried or cancelled; nothing was changed", err)
	case errors.Is(err, callback.ErrExpired):
		return errf(http.StatusUnauthorized, CodeCallbackExpired, "token", "callback token expired")
	case errors.Is(err, callback.ErrForged), errors.Is(err, callback.ErrMalformed), errors.Is(err, service.ErrCallbackRejected):
		return errf(http.StatusForbidden, CodeCallbackForged, "token", "callback token is not valid")
	case errors.Is(err, engine.ErrInvalidState):
		return errf(http.StatusConflict, CodeInvalidState, "", "%v", err)
	case errors.Is(err, engine.ErrInvalidInput):
		if field == "input" && strings.Contains(err.Error(), "target") {
			field = "target"
		}
		msg := err.Error()
		var ie *engine.InputError
		if errors.As(err, &ie) {
			msg = ie.Msg // without the made-up execution id of a refused start
		}
		return errf(http.StatusBadRequest, CodeInvalidInput, field, "%s", msg)
	case errors.Is(err, store.ErrNotFound):
		return errf(http.StatusNotFound, CodeNotFound, "", "%v", err)
	case errors.Is(err, store.ErrTooLarge):
		return errf(http.StatusRequestEntityTooLarge, CodeTooLarge, field, "%v", err)
	case errors.Is(err, store.ErrConflict):
		return errf(http.StatusConflict, CodeConflict, "", "%v; retry the request", err)
	case errors.Is(err, store.ErrCorrupt):
		// Which record is unreadable, and why, is what its repair needs;
		// "internal error" would send the operator to the logs for it.
		return errf(http.StatusInternalServerError, CodeInternal, "", "%v", err)
	case errors.Is(err, store.ErrUnavailable):
		// The cause (a database's own message) is logged, not shown.
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "the store is unavailable; retry later")
	}
	return errf(http.StatusInternalServerError, CodeInternal, "", "internal error")
}

func definitionError(des dsl.Errors) *Error {
	e := &Error{Status: http.StatusBadRequest, Code: CodeInvalidWorkflow, Field: "definition"}
	for _, d := range des {
		e.Problems = append(e.Problems, Problem{At: d.Pos.String(), File: d.Pos.File, Line: d.Pos.Line, Column: d.Pos.Column, Message: d.Msg})
	}
	e.Message = fmt.Sprintf("the workflow definition has %d problem(s): %s", len(des), des.Error())
	if len(des) == 1 {
		e.Message = "the workflow definition has a problem: " + des.Error()
	}
	return e
}

// jsonError explains a decoding error of a body into v, naming the field
// when it is known.
func jsonError(err error, data []byte, v any) *Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return classify(err, "")
	case errors.Is(err, io.EOF) || len(strings.TrimSpace(string(data))) == 0:
		return errf(http.StatusBadRequest, CodeInvalidJSON, "", "request body is empty; a JSON object is expected")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errf(http.StatusBadRequest, CodeInvalidJSON, "", "request body is not valid JSON: it ends early")
	case errors.As(err, &syn):
		line, col := lineCol(data, syn.Offset)
		return errf(http.StatusBadRequest, CodeInvalidJSON, "", "request body is not valid JSON at line %d, column %d: %s", line, col,
			strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errf(http.StatusBadRequest, CodeInvalidJSON, "", "request body must be a JSON object, not %s", typ.Value)
		}
		return errf(http.StatusBadRequest, CodeInvalidJSON, typ.Field, "field %q must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		f = strings.Trim(f, `"`)
		// The fields it takes are what a typo ("inputs", "task") needs.
		return errf(http.StatusBadRequest, CodeInvalidJSON, f, "unknown field %q (this body takes %s)", f, strings.Join(jsonFields(v), ", "))
	}
	return errf(http.StatusBadRequest, CodeInvalidJSON, "", "request body is not valid JSON: %s", msg)
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "a list"
	case "bool":
		return "true or false"
	case "float32", "float64", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a number"
	}
	return "a " + k
}

func lineCol(data []byte, off int64) (int, int) {
	line, col := 1, 1
	for i := int64(0); i < off-1 && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// jsonFields are the JSON names of the fields of the struct v points to.
func jsonFields(v any) []string {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}
