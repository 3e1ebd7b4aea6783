package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run this binary's main, so a real signal reaches
// the real signal handling.
func TestMain(m *testing.M) {
	if os.Getenv("LAZYFLOW_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{"lazyflow"}, strings.Fields(os.Getenv("LAZYFLOW_TEST_ARGS"))...)
		main()
		return
	}
	os.Exit(m.Run())
}

const sleepy = `version: '2.0'
sleepy:
  tasks:
    nap:
      action: std.sleep seconds=30
`

// stoppedReport checks what a run that stopped waiting printed: one JSON
// object with the execution as it stood (RUNNING, its task RUNNING).
func stoppedReport(t *testing.T, out string) {
	t.Helper()
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("--json must print exactly one line, got %q", out)
	}
	var rep struct {
		ID, Workflow, State string
		Tasks               []struct{ Name, State string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not one JSON object: %v: %q", err, out)
	}
	if rep.ID == "" || rep.Workflow != "sleepy" || rep.State != "RUNNING" {
		t.Fatalf("report %+v", rep)
	}
	if len(rep.Tasks) != 1 || rep.Tasks[0].Name != "nap" || rep.Tasks[0].State != "RUNNING" {
		t.Fatalf("tasks %+v", rep.Tasks)
	}
}

func TestRunJSONTimeoutPrintsReportAndExits4(t *testing.T) {
	start := time.Now()
	code, out, errs := runCLI("run", write(t, sleepy), "--json", "--timeout", "300ms")
	if code != exitStopped {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitStopped, errs)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
	stoppedReport(t, out)
	if !strings.Contains(errs, "--timeout expired") {
		t.Fatalf("stderr does not say why: %q", errs)
	}
}

func TestRunJSONSignalPrintsReportAndExits4(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			// At debug level the run logs "execution started" once its start
			// is committed: the signal waits for that, not for a guessed
			// second that a loaded machine can spend starting the process.
			cmd.Env = append(os.Environ(), "LAZYFLOW_TEST_RUN_MAIN=1", "LAZYFLOW_LOG_LEVEL=debug",
				"LAZYFLOW_TEST_ARGS=run "+write(t, sleepy)+" --json")
			var out bytes.Buffer
			var errb syncBuffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(60 * time.Second); !strings.Contains(errb.String(), `msg="execution started"`); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
					t.Fatalf("the run never started its execution: %s", errb.String())
				}
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != exitStopped {
				t.Fatalf("exit %v, want %d; stderr %s", err, exitStopped, errb.String())
			}
			stoppedReport(t, out.String())
		})
	}
}

func TestRunTimeoutMustBePositive(t *testing.T) {
	for _, v := range []string{"-5s", "0", "0s"} {
		code, _, errs := runCLI("run", "../../examples/hello.yaml", "--timeout", v)
		if code != exitUsage || !strings.Contains(errs, "--timeout") {
			t.Errorf("--timeout %s: exit %d, stderr %q; want 2 naming --timeout", v, code, errs)
		}
	}
}

func TestServeInlineStepsMustNotBeNegative(t *testing.T) {
	code, _, errs := runCLI("serve", "--inline-steps", "-1", "--data", t.TempDir())
	if code != exitUsage || !strings.Contains(errs, "--inline-steps") {
		t.Errorf("--inline-steps -1: exit %d, stderr %q; want 2 naming --inline-steps", code, errs)
	}
}

// A second server on a taken port is the usual first clash on a machine:
// the error says how to choose another port.
func TestServePortTakenSaysHowToChooseAnother(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, _, errs := runCLI("serve", "--addr", ln.Addr().String(), "--data", t.TempDir())
	if code != exitFailure || !strings.Contains(errs, "address already in use") || !strings.Contains(errs, "--addr") || !strings.Contains(errs, "make run ADDR=") {
		t.Errorf("serve on a taken port: exit %d, stderr %q; want 1, naming --addr and make run ADDR=", code, errs)
	}
}
