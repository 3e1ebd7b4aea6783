package httpapi

import (
	_ "embed"
	"net/http"
)

// OpenAPI is the API's OpenAPI 3 document. It is written by hand and kept
// equal to the routes by TestOpenAPIMatchesRoutes.
//
//go:embed openapi.json
var OpenAPI []byte

func (a *API) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(OpenAPI)
	return err
}
