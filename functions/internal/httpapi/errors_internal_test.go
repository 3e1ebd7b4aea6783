package httpapi

import "testing"

// Type errors name JSON's kinds, never Go's ("must be a float64").
func TestJSONKindNamesJSONTypes(t *testing.T) {
	for k, want := range map[string]string{"float64": "a number", "int64": "a number", "string": "a string",
		"map": "an object", "slice": "a list", "bool": "true or false"} {
		if got := jsonKind(k); got != want {
			t.Errorf("jsonKind(%s) = %q, want %q", k, got, want)
		}
	}
}
