package value

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// errDuplicateKey makes fromJSON fall back to the token decoder, which
// handles an object that repeats a key (the last value wins, at the first
// place, as in Python).
var errDuplicateKey = errors.New("an object repeats a key")

// keyOrders lists, for every object of the valid JSON text b in document
// order, its keys in document order. Decoding with encoding/json and then
// ordering each object by this list is several times faster than reading
// the text token by token.
func keyOrders(b []byte) ([][]string, error) {
	var orders [][]string
	var stack []int // per open container: its index in orders, or -1 for a list
	expectKey := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '{':
			orders = append(orders, nil)
			stack = append(stack, len(orders)-1)
			expectKey = true
		case '[':
			stack = append(stack, -1)
			expectKey = false
		case '}', ']':
			stack = stack[:len(stack)-1]
			expectKey = false
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1] >= 0
		case '"':
			end := stringEnd(b, i)
			if expectKey {
				k, err := keyText(b[i : end+1])
				if err != nil {
					return nil, err
				}
				o := stack[len(stack)-1]
				for _, seen := range orders[o] {
					if seen == k {
						return nil, errDuplicateKey
					}
				}
				orders[o] = append(orders[o], k)
				expectKey = false
			}
			i = end
		}
	}
	return orders, nil
}

// stringEnd is the index of the quote closing the string opening at i.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return len(b) - 1
}

func keyText(quoted []byte) (string, error) {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1 : len(quoted)-1]), nil
	}
	var s string
	err := json.Unmarshal(quoted, &s)
	return s, err
}

// ordered turns what encoding/json decoded (with UseNumber) into a value:
// objects become *Map in the key orders, numbers become int64 or float64.
type ordered struct {
	orders [][]string
	next   int
	exact  bool
}

func (o *ordered) value(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		return number(x, o.exact)
	case []any:
		for i, e := range x {
			n, err := o.value(e)
			if err != nil {
				return nil, inside(err, "["+strconv.Itoa(i)+"]")
			}
			x[i] = n
		}
		return x, nil
	case map[string]any:
		keys := o.orders[o.next]
		o.next++
		if keys == nil {
			keys = []string{} // as NewMap makes it: an empty dict is one shape
		}
		m := &Map{keys: keys, vals: x}
		for _, k := range keys {
			n, err := o.value(x[k])
			if err != nil {
				return nil, inside(err, k)
			}
			x[k] = n
		}
		return m, nil
	}
	return v, nil
}
