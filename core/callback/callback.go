// Package callback signs and verifies the tokens in delegate actions'
// callback URLs. A token names one action attempt and an expiry, and carries
// an HMAC-SHA256 over both with a key the deployment provides: it cannot be
// guessed or altered, it is checked in constant time, and it stops working
// when it expires. Replays are harmless because the engine applies a result
// for an attempt at most once; the API reports them as conflicts.
package callback

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors Verify returns.
var (
	ErrMalformed = errors.New("malformed callback token")
	ErrForged    = errors.New("callback token signature does not match")
	ErrExpired   = errors.New("callback token expired")
)

// Claims is what a token names.
type Claims struct {
	Exec    string `json:"e"`
	Task    string `json:"t"`
	Slot    int    `json:"s"`
	Attempt int    `json:"a"`
	Expires int64  `json:"x"` // unix seconds
}

// MinKeyLen is the shortest key accepted (256 bits).
const MinKeyLen = 32

// Sign returns a URL-safe token for c.
func Sign(key []byte, c Claims) (string, error) {
	if len(key) < MinKeyLen {
		return "", fmt.Errorf("callback key is %d bytes; at least %d are required", len(key), MinKeyLen)
	}
	body, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	p := base64.RawURLEncoding.EncodeToString(body)
	return p + "." + base64.RawURLEncoding.EncodeToString(mac(key, p)), nil
}

// Verify checks a token's signature and expiry and returns its claims.
func Verify(key []byte, token string, now time.Time) (Claims, error) {
	var c Claims
	if len(key) < MinKeyLen {
		// An empty or short key would let anyone mint tokens.
		return c, ErrForged
	}
	p, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 2048 {
		return c, ErrMalformed
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return c, ErrMalformed
	}
	if !hmac.Equal(got, mac(key, p)) {
		return c, ErrForged
	}
	body, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return c, ErrMalformed
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return c, ErrMalformed
	}
	if now.Unix() >= c.Expires {
		return c, ErrExpired
	}
	return c, nil
}

func mac(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}
