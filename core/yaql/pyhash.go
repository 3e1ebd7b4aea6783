package yaql

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// pyStrHash is CPython 3.11's hash() of a str with hash randomisation off
// (PYTHONHASHSEED=0): SipHash-1-3 with a zero key over the string's
// internal form (Latin-1, UCS-2 or UCS-4 by its widest character). Python
// randomises string hashes per process, so a set of strings has no order
// Mistral keeps; this is one it can give, and always the same one.
func pyStrHash(s string) uint64 {
	if s == "" {
		return 0
	}
	width := 1
	for _, r := range s {
		switch {
		case r > 0xffff:
			width = 4
		case r > 0xff && width < 2:
			width = 2
		}
	}
	buf := make([]byte, 0, utf8.RuneCountInString(s)*width)
	for _, r := range s {
		switch width {
		case 1:
			buf = append(buf, byte(r))
		case 2:
			buf = binary.LittleEndian.AppendUint16(buf, uint16(r))
		default:
			buf = binary.LittleEndian.AppendUint32(buf, uint32(r))
		}
	}
	h := sipHash13(buf)
	if h == ^uint64(0) {
		h-- // -1 is no hash in CPython: it becomes -2
	}
	return h
}

func sipHash13(src []byte) uint64 {
	b := uint64(len(src)) << 56
	v0, v1 := uint64(0x736f6d6570736575), uint64(0x646f72616e646f6d)
	v2, v3 := uint64(0x6c7967656e657261), uint64(0x7465646279746573)
	round := func() {
		v0 += v1
		v2 += v3
		v1 = bits.RotateLeft64(v1, 13) ^ v0
		v3 = bits.RotateLeft64(v3, 16) ^ v2
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v1
		v0 += v3
		v1 = bits.RotateLeft64(v1, 17) ^ v2
		v3 = bits.RotateLeft64(v3, 21) ^ v0
		v2 = bits.RotateLeft64(v2, 32)
	}
	for len(src) >= 8 {
		m := binary.LittleEndian.Uint64(src)
		src = src[8:]
		v3 ^= m
		round()
		v0 ^= m
	}
	var t uint64
	for i, c := range src {
		t |= uint64(c) << (8 * i)
	}
	b |= t
	v3 ^= b
	round()
	v0 ^= b
	v2 ^= 0xff
	round()
	round()
	round()
	return (v0 ^ v1) ^ (v2 ^ v3)
}
