package awstest

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// RepoRoot is the directory holding go.mod, above the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// ReadEnv reads the KEY=VALUE lines of localstack/up.sh's env file.
func ReadEnv(path string) map[string]string {
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok {
			out[k] = v
		}
	}
	return out
}

// Answers reports whether url gives any HTTP answer.
func Answers(url string) bool {
	if url == "" {
		return false
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// Emulators returns the endpoints in .cache/localstack/env (AWS_ENDPOINT_URL
// for MiniStack, LAZYFLOW_DDB_LOCAL_ENDPOINT for DynamoDB Local), first
// running localstack/install.sh and up.sh with parts ("ministack",
// "ddblocal") when one of them does not answer. What it starts keeps
// running for the next package; localstack/down.sh stops it.
func Emulators(parts ...string) (map[string]string, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	envFile := filepath.Join(root, ".cache", "localstack", "env")
	up := func(env map[string]string) error {
		for _, p := range parts {
			switch p {
			case "ministack":
				if !Answers(env["AWS_ENDPOINT_URL"] + "/_ministack/health") {
					return fmt.Errorf("MiniStack does not answer at %q", env["AWS_ENDPOINT_URL"])
				}
			case "ddblocal":
				if !Answers(env["LAZYFLOW_DDB_LOCAL_ENDPOINT"]) {
					return fmt.Errorf("DynamoDB Local does not answer at %q", env["LAZYFLOW_DDB_LOCAL_ENDPOINT"])
				}
			}
		}
		return nil
	}
	env := ReadEnv(envFile)
	if up(env) != nil {
		for _, script := range []string{"install.sh", "up.sh"} {
			cmd := exec.Command(filepath.Join(root, "localstack", script), parts...)
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				return nil, fmt.Errorf("localstack/%s: %w", script, err)
			}
		}
		env = ReadEnv(envFile)
		if err := up(env); err != nil {
			return nil, fmt.Errorf("%w after up.sh", err)
		}
	}
	return env, nil
}
