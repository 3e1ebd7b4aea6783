package callback

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func TestRoundTripForgeExpire(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := Claims{Exec: "ex1", Task: "t1", Slot: -1, Attempt: 2, Expires: now.Add(time.Hour).Unix()}
	tok, err := Sign(key, c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(key, tok, now)
	if err != nil || got != c {
		t.Fatalf("Verify = %+v, %v; want %+v", got, err, c)
	}
	// Altering the claims without the key breaks the signature.
	p, sig, _ := strings.Cut(tok, ".")
	forged := strings.Replace(p, p[:4], "eyJl", 1) + "x." + sig
	if _, err := Verify(key, forged, now); err == nil {
		t.Fatal("forged token accepted")
	}
	other := []byte("another-key-another-key-another-k")
	if _, err := Verify(other, tok, now); !errors.Is(err, ErrForged) {
		t.Fatalf("wrong key: %v, want ErrForged", err)
	}
	if _, err := Verify(key, tok, now.Add(2*time.Hour)); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v, want ErrExpired", err)
	}
	for _, bad := range []string{"", "abc", "a.b.c", strings.Repeat("x", 3000)} {
		if _, err := Verify(key, bad, now); err == nil {
			t.Fatalf("malformed token %q accepted", bad)
		}
	}
	if _, err := Sign([]byte("short"), c); err == nil {
		t.Fatal("short key accepted")
	}
}

// With no key (a host that forgot to configure one) nothing verifies, so
// nobody can mint tokens with an empty key.
func TestEmptyKeyVerifiesNothing(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	// A token "signed" with an empty key, made by hand.
	body := `{"e":"ex1","t":"t1","s":-1,"a":1,"x":1800003600}`
	p := base64.RawURLEncoding.EncodeToString([]byte(body))
	tok := p + "." + base64.RawURLEncoding.EncodeToString(mac(nil, p))
	if _, err := Verify(nil, tok, now); err == nil {
		t.Fatal("token verified with an empty key")
	}
}
