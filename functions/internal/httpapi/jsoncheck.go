package httpapi

import (
	"net/http"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxJSONDepth bounds how deeply a request body's arrays and objects nest.
// The bound is checked on the raw bytes, before anything is decoded, so a
// small body nested thousands deep costs a scan rather than a tree.
const MaxJSONDepth = 100

// CheckJSON is checkJSON for the other API served beside this one
// (Mistral's /v2): nil, or an error whose message says what and where.
func CheckJSON(data []byte) error {
	if e := checkJSON(data); e != nil {
		return e
	}
	return nil
}

// checkJSON refuses, before decoding, what decoding would silently alter
// or pay dearly for: text that is not UTF-8, \u escapes that are not a
// character (a lone surrogate becomes U+FFFD), and nesting deeper than
// MaxJSONDepth. Syntax errors are left to the decoder, which names them.
func checkJSON(data []byte) *Error {
	depth := 0
	for i := 0; i < len(data); {
		switch c := data[i]; {
		case c == '"':
			n, e := checkString(data, i)
			if e != nil {
				return e
			}
			i = n
			continue
		case c == '[' || c == '{':
			if depth++; depth > MaxJSONDepth {
				line, col := lineCol(data, int64(i)+1)
				return errf(http.StatusBadRequest, CodeInvalidJSON, "",
					"request body nests arrays and objects more than %d deep (at line %d, column %d)", MaxJSONDepth, line, col)
			}
		case c == ']' || c == '}':
			depth--
		case c >= utf8.RuneSelf:
			if r, size := utf8.DecodeRune(data[i:]); r == utf8.RuneError && size <= 1 {
				return notUTF8(data, i)
			}
		}
		i++
	}
	return nil
}

// checkString checks the string starting at data[start] (its opening
// quote) and returns the offset after its closing quote (or the end).
func checkString(data []byte, start int) (int, *Error) {
	for i := start + 1; i < len(data); {
		c := data[i]
		switch {
		case c == '"':
			return i + 1, nil
		case c == '\\' && i+1 < len(data) && data[i+1] == 'u':
			r, ok := hex4(data, i+2)
			if !ok {
				return i + 2, nil // the decoder names the bad escape
			}
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(0), false
				if i+7 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
					r2, ok2 = hex4(data, i+8)
				}
				if !ok2 || utf16.DecodeRune(r, r2) == utf8.RuneError {
					line, col := lineCol(data, int64(i)+1)
					return 0, errf(http.StatusBadRequest, CodeInvalidJSON, "",
						"request body has the escape %s at line %d, column %d: a lone UTF-16 surrogate is not a character", data[i:i+6], line, col)
				}
				i += 12
				continue
			}
			i += 6
		case c == '\\':
			i += 2
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				return 0, notUTF8(data, i)
			}
			i += size
		default:
			i++
		}
	}
	return len(data), nil
}

func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(data[at:at+4]), 16, 16)
	return rune(n), err == nil
}

func notUTF8(data []byte, at int) *Error {
	line, col := lineCol(data, int64(at)+1)
	return errf(http.StatusBadRequest, CodeInvalidJSON, "",
		"request body is not valid UTF-8 at line %d, column %d (byte offset %d): send text as UTF-8", line, col, at)
}
