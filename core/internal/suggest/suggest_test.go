package suggest

import "testing"

func TestClosest(t *testing.T) {
	known := []string{"output", "method", "len", "select"}
	for word, want := range map[string]string{
		"outptu":  "output", // a transposition is one edit
		"methd":   "method",
		"LEN":     "len",
		"lenn":    "len",
		"ln":      "len",
		"xyz":     "",
		"selectt": "select",
		"":        "",
	} {
		if got := Closest(word, known); got != want {
			t.Errorf("Closest(%q) = %q, want %q", word, got, want)
		}
	}
}
