package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	return exitFailure, usageError{"serve is not available in this build"}
}

func randomKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
