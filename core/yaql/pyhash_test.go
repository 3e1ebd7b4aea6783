package yaql

import "testing"

// The values are CPython 3.11's hash() with PYTHONHASHSEED=0, as unsigned.
func TestPyStrHashIsCPythons(t *testing.T) {
	for s, want := range map[string]uint64{
		"":             0,
		"a":            4644417185603328019,
		"abc":          13851880170939887858,
		"7":            18010829358935688610,
		"hello world!": 839851713330019024,
		"é":            6047309291227476195,
		"€":            12916762915946535607,
		"😀":            14910203377632937772,
	} {
		if got := pyStrHash(s); got != want {
			t.Errorf("pyStrHash(%q) = %d, want %d", s, got, want)
		}
	}
}
