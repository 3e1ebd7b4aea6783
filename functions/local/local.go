// Package local runs all of Lazyflow's functions in one process — the HTTP
// API (and Mistral's REST API v2 under /v2) on localhost, the engine host
// and the action runners — over the durable embedded store and queues (one bbolt file), so `lazyflow serve` (and `make run`) gives a
// working service with one command. Killing and restarting it loses
// nothing: on start it re-sends the pending work of every running
// execution, and an action the previous process was running when it died
// gets an error result (so its retry policy, if any, runs it again). While
// it runs, a sweep every minute re-sends work whose message was lost and
// finalises executions whose work is done (service.Sweep).
package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/callback"
	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/queue"
	"github.com/lazyflow/lazyflow/core/queue/boltqueue"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/boltstore"
	"github.com/lazyflow/lazyflow/functions/aws/awsactions"
	"github.com/lazyflow/lazyflow/functions/internal/httpapi"
	"github.com/lazyflow/lazyflow/functions/internal/mistralapi"
	"github.com/lazyflow/lazyflow/functions/internal/webui"
)

// DefaultAddr is where the API listens unless told otherwise: loopback
// only, because the API has no authentication of its own.
const DefaultAddr = "127.0.0.1:8080"

// Options configures Serve.
type Options struct {
	// Addr to listen on (default DefaultAddr); ignored when Listener is set.
	Addr     string
	Listener net.Listener
	// DataDir holds the store file and the callback key (default ./.lazyflow).
	DataDir string
	Log     *slog.Logger
	// Actions lets a Go program add its own actions (default: the built-ins).
	Actions *actions.Registry
	// CallbackKey signs delegate actions' callback tokens. Default: the
	// LAZYFLOW_CALLBACK_KEY environment variable (its text, at least 32
	// bytes), else a key generated once and kept in DataDir/callback.key.
	CallbackKey []byte
	// CallbackBaseURL is what tokens are appended to (default
	// LAZYFLOW_CALLBACK_BASE_URL, else http://<listen address>/callbacks/).
	CallbackBaseURL string
	// Visibility is how long a received message stays hidden (default 30s).
	Visibility time.Duration
	// MaxReceives moves a message that failed this many times to its
	// dead-letter queue (default 5).
	MaxReceives int
	// Runners is how many actions run at once (default 64) and Engines how
	// many engine steps (default 16). Over the durable file most of a
	// worker's time is the wait for its group's fsync, so more workers
	// make bigger groups, not more disk work.
	Runners int
	Engines int
	// InlineSteps is how many trivial actions (std.noop, std.echo,
	// std.fail) one step runs where it is, with no queue hop (default
	// service.DefaultInlineSteps); negative: none, every action goes
	// through the task queue.
	InlineSteps int
	// MaxBody bounds request bodies (default httpapi.DefaultMaxBody).
	MaxBody int64
	// ShutdownTimeout bounds the wait for in-flight requests (default 10s).
	ShutdownTimeout time.Duration
	// DrainTimeout bounds how long a shutdown waits for running actions to
	// finish and report (default 25s, inside the usual 30 s between a
	// SIGTERM and a SIGKILL); what still runs then is cut short, and the
	// next start reports it as interrupted.
	DrainTimeout time.Duration
	// Ready, if set, is called with the API's base URL once it listens.
	Ready func(baseURL string)
	// SweepInterval is how often service.Sweep runs (default 1 minute), and
	// SweepMinAge how long a task must have been started before its
	// unclaimed action is sent again (default 2 minutes). The start-up
	// recovery covers crashes; the sweep covers a message lost while running.
	SweepInterval time.Duration
	SweepMinAge   time.Duration
	// Retention, when positive, deletes finished executions last updated
	// longer ago than that (checked at every sweep); zero keeps everything.
	Retention time.Duration
}

// Serve runs the service until ctx ends or the process gets SIGINT or
// SIGTERM, then shuts down gracefully.
func Serve(ctx context.Context, opt Options) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := opt.defaults(); err != nil {
		return err
	}
	log := opt.Log
	if err := os.MkdirAll(opt.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory %s: %w", opt.DataDir, err)
	}
	key, err := opt.callbackKey()
	if err != nil {
		return err
	}
	dbPath := filepath.Join(opt.DataDir, "lazyflow.db")
	db, err := boltstore.OpenDB(dbPath)
	if err != nil {
		return fmt.Errorf("open %s (is another lazyflow serving this data directory?): %w", dbPath, err)
	}
	defer boltstore.CloseDB(db)
	st, err := boltstore.New(db, false)
	if err != nil {
		return err
	}
	st.SetLog(log)
	defer st.Close()
	// The queues share the store's file, so a result or timer sent before a
	// crash is delivered after the restart. A message that keeps failing
	// moves to its dead-letter queue, which service.DeadLetter drains, as
	// the deployed dlq function does.
	qs := map[string]*boltqueue.Queue{}
	for _, name := range []string{"tasks", "results", "tasks-dlq", "results-dlq"} {
		qo := boltqueue.Options{Visibility: opt.Visibility}
		if !strings.HasSuffix(name, "-dlq") {
			qo.MaxReceives, qo.DLQ = opt.MaxReceives, name+"-dlq"
		}
		q, err := boltqueue.New(db, name, qo)
		if err != nil {
			return fmt.Errorf("open queue %s: %w", name, err)
		}
		defer q.Close()
		qs[name] = q
	}

	ln := opt.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", opt.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", opt.Addr, err)
		}
	}
	base := "http://" + ln.Addr().String()
	if opt.CallbackBaseURL == "" {
		opt.CallbackBaseURL = base + "/callbacks/"
	}

	// The workers outlive ctx until the HTTP server has drained. Sends are
	// refused once they stop, so an action cut short by the shutdown is not
	// reported as the action's own error: it stays claimed and unfinished,
	// and the next start treats it as interrupted.
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()
	h := embedded.New(embedded.Options{Store: st, Actions: opt.Actions, Log: log,
		Tasks:   &guarded{Queue: qs["tasks"], stopping: runCtx},
		Results: &guarded{Queue: qs["results"], stopping: runCtx},
		Runners: opt.Runners, Engines: opt.Engines, Visibility: opt.Visibility,
		// The queues count receives and dead-letter; the host must not give up first.
		MaxReceives: math.MaxInt32})
	h.CallbackKey = key
	h.CallbackURL = opt.CallbackBaseURL
	if opt.InlineSteps != 0 {
		h.Service.InlineSteps = max(opt.InlineSteps, 0)
	}
	// A step's records and the messages it sends commit in one transaction
	// of the shared file: no message without its state, nor the reverse.
	if err := h.UseOutbox("tasks", "results"); err != nil {
		return err
	}
	h.Run(runCtx)
	defer h.Close()
	var background sync.WaitGroup
	for _, name := range []string{"tasks-dlq", "results-dlq"} {
		background.Add(1)
		go func() { defer background.Done(); drainDeadLetters(runCtx, qs[name], h.Service, log) }()
	}
	background.Add(1)
	go func() { defer background.Done(); sweep(ctx, h.Service, opt, log) }()
	defer background.Wait()
	defer cancelRun()

	if err := recoverAll(ctx, h, opt.Actions, opt.Visibility+2*time.Second, log); err != nil {
		// The periodic sweep repairs what recovery could not.
		log.Warn("recovery of running executions incomplete; the sweep retries", "err", err)
	}

	// Lazyflow's own API, Mistral's v2 under /v2 over the same service, and the web UI.
	apiLog := slog.New(requestLog{log.Handler()})
	api := mistralapi.Mount(httpapi.New(h.Service, httpapi.Options{Log: apiLog, MaxBody: opt.MaxBody}),
		mistralapi.New(h.Service, apiLog, opt.MaxBody))
	srv := &http.Server{Handler: webui.Mount(api, h.Store, apiLog), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("lazyflow serving", "url", base, "data_dir", opt.DataDir, "openapi", base+"/openapi.json")
	if opt.Ready != nil {
		opt.Ready(base)
	}

	select {
	case <-ctx.Done():
	case err := <-served:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	}
	log.Info("lazyflow shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), opt.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("in-flight requests cut short", "err", err)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), opt.DrainTimeout)
	defer dcancel()
	if !h.Drain(dctx) {
		log.Warn("actions still running at the end of the drain are cut short; the next start reports them as interrupted",
			"drain_timeout", opt.DrainTimeout.String())
	} else {
		log.Info("running actions finished")
	}
	cancelRun()
	h.Close()
	background.Wait()
	return nil
}

// sweepMax bounds one sweep; a laptop's store rarely holds that many
// running executions, and the next sweep picks up the rest.
const sweepMax = 1000

// sweep runs service.Sweep every interval until ctx ends, as the sweeper
// function does on AWS on its schedule.
func sweep(ctx context.Context, s *service.Service, opt Options, log *slog.Logger) {
	t := time.NewTicker(opt.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := s.Sweep(ctx, opt.SweepMinAge, sweepMax)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("sweep failed", "executions", n, "err", err)
			}
			continue
		}
		log.Debug("sweep done", "executions", n)
		if _, err := s.Purge(ctx, opt.Retention, sweepMax); err != nil && ctx.Err() == nil {
			log.Error("purge failed", "err", err)
		}
	}
}

// drainDeadLetters hands each dead-lettered message to the service, which
// fails the attempt or execution it belonged to, so nothing stays RUNNING.
func drainDeadLetters(ctx context.Context, q queue.Queue, s *service.Service, log *slog.Logger) {
	for ctx.Err() == nil {
		msgs, err := q.Receive(ctx, 10, time.Second)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, queue.ErrClosed) {
				log.Error("receive dead letters", "err", err)
				time.Sleep(time.Second)
				continue
			}
			return
		}
		for _, m := range msgs {
			if err := s.DeadLetter(ctx, m.Body); err != nil {
				log.Warn("dead letter not handled; will retry", "err", err, "receives", m.Receives)
				_ = q.ChangeVisibility(ctx, m.Receipt, time.Duration(min(m.Receives, 30))*time.Second)
				continue
			}
			_ = q.Delete(ctx, m.Receipt)
		}
	}
}

func (opt *Options) defaults() error {
	if opt.Addr == "" {
		opt.Addr = DefaultAddr
	}
	if opt.DataDir == "" {
		opt.DataDir = ".lazyflow"
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if opt.Actions == nil {
		opt.Actions = actions.New()
		if awsactions.Configured(os.Getenv) {
			cfg, err := config.LoadDefaultConfig(context.Background())
			if err != nil {
				return fmt.Errorf("AWS actions: load AWS configuration: %w", err)
			}
			awsactions.Register(opt.Actions, awsactions.NewClients(cfg))
		}
	}
	if opt.CallbackBaseURL == "" {
		opt.CallbackBaseURL = os.Getenv("LAZYFLOW_CALLBACK_BASE_URL")
	}
	if opt.CallbackBaseURL != "" && !strings.HasSuffix(opt.CallbackBaseURL, "/") {
		opt.CallbackBaseURL += "/"
	}
	if opt.Visibility <= 0 {
		opt.Visibility = 30 * time.Second
	}
	if opt.MaxReceives <= 0 {
		opt.MaxReceives = 5
	}
	if opt.Runners <= 0 {
		opt.Runners = 64
	}
	if opt.Engines <= 0 {
		opt.Engines = 16
	}
	if opt.DrainTimeout <= 0 {
		opt.DrainTimeout = 25 * time.Second
	}
	if opt.ShutdownTimeout <= 0 {
		opt.ShutdownTimeout = 10 * time.Second
	}
	if opt.SweepInterval <= 0 {
		opt.SweepInterval = time.Minute
	}
	if opt.SweepMinAge <= 0 {
		opt.SweepMinAge = 2 * time.Minute
	}
	return nil
}

// callbackKey picks the signing key; a generated one is kept so callback
// URLs handed out before a restart still work after it.
func (opt *Options) callbackKey() ([]byte, error) {
	if len(opt.CallbackKey) > 0 {
		return checkKey(opt.CallbackKey, "Options.CallbackKey")
	}
	if k := os.Getenv("LAZYFLOW_CALLBACK_KEY"); k != "" {
		return checkKey([]byte(k), "LAZYFLOW_CALLBACK_KEY")
	}
	path := filepath.Join(opt.DataDir, "callback.key")
	data, err := os.ReadFile(path)
	if err == nil {
		return checkKey([]byte(strings.TrimSpace(string(data))), path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read callback key: %w", err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("generate callback key: %w", err)
	}
	k := hex.EncodeToString(b[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create callback key file: %w", err)
	}
	if _, err := f.WriteString(k + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write callback key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write callback key file: %w", err)
	}
	return []byte(k), nil
}

func checkKey(k []byte, from string) ([]byte, error) {
	if len(k) < callback.MinKeyLen {
		return nil, fmt.Errorf("callback key from %s is %d bytes; at least %d are required", from, len(k), callback.MinKeyLen)
	}
	return k, nil
}

// guarded is a queue that refuses sends once stopping ends.
type guarded struct {
	queue.Queue
	stopping context.Context
}

var errStopping = errors.New("lazyflow is shutting down; the message stays for the next start")

func (g *guarded) Send(ctx context.Context, body []byte, delay time.Duration) error {
	if g.stopping.Err() != nil {
		return errStopping
	}
	return g.Queue.Send(ctx, body, delay)
}

// recoverAll resumes every running execution after a start. Work that was
// never claimed is sent again (service.Recover). An action attempt that was
// claimed but never reported was cut short when the previous process
// stopped: it gets an error result, delivered after delay so that a result
// the previous process did send is applied first (and this one is then a
// duplicate). Delegate actions are left alone: their result comes through
// the callback, whose key survives restarts.
func recoverAll(ctx context.Context, h *embedded.Host, reg *actions.Registry, delay time.Duration, log *slog.Logger) error {
	var errs []error
	for _, state := range []engine.State{engine.Running, engine.Paused} {
		cursor := ""
		for {
			page, err := h.Store.ListExecutions(ctx, store.ListParams{State: state, Cursor: cursor, Limit: 100})
			if err != nil {
				return fmt.Errorf("list %s executions: %w", state, err)
			}
			for _, e := range page.Executions {
				if state == engine.Running {
					if err := h.Recover(ctx, e.ID); err != nil {
						errs = append(errs, fmt.Errorf("recover %s: %w", e.ID, err))
					}
				}
				n, err := interrupted(ctx, h.Service, reg, e.ID, delay)
				if err != nil {
					errs = append(errs, err)
				}
				log.Info("execution recovered after restart", "execution_id", e.ID, "state", e.State, "interrupted_actions", n)
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
	}
	return errors.Join(errs...)
}

func interrupted(ctx context.Context, s *service.Service, reg *actions.Registry, id string, delay time.Duration) (int, error) {
	tasks, err := s.Store.Tasks(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("load tasks of %s: %w", id, err)
	}
	n := 0
	for _, t := range tasks {
		if t.State != engine.Running {
			continue
		}
		type attempt struct {
			slot    *engine.Slot // nil: the task's own attempt
			n       int
			claimed int
		}
		var cands []attempt
		if t.Items == 0 {
			cands = append(cands, attempt{nil, t.Attempt, t.Claimed})
		} else {
			slots, err := s.Store.Slots(ctx, id, t.Key)
			if err != nil {
				return n, fmt.Errorf("load items of %s/%s: %w", id, t.Key, err)
			}
			for _, sl := range slots {
				if sl.State == engine.Running {
					cands = append(cands, attempt{sl, sl.Attempt, sl.Claimed})
				}
			}
		}
		for _, a := range cands {
			if a.n == 0 || a.claimed < a.n || isDelegate(reg, t, a.slot, a.n) {
				continue
			}
			slot := -1
			if a.slot != nil {
				slot = a.slot.Index
			}
			body, err := json.Marshal(service.Message{Result: &engine.Result{Exec: id, Task: t.Key, Slot: slot, Attempt: a.n,
				Error:       fmt.Sprintf("the action of task %s (attempt %d) was interrupted: lazyflow stopped while it ran", t.Name, a.n),
				Interrupted: true}})
			if err != nil {
				return n, err
			}
			if err := s.Results.Send(ctx, body, delay); err != nil {
				return n, fmt.Errorf("report interrupted action of %s/%s: %w", id, t.Key, err)
			}
			n++
		}
	}
	return n, nil
}

// isDelegate reports whether an attempt runs a delegate action, whose
// result arrives through its callback rather than from a runner.
func isDelegate(reg *actions.Registry, t *engine.Task, sl *engine.Slot, attempt int) bool {
	c, ok := engine.AttemptAction(t, sl, attempt)
	return ok && reg.IsAsync(c.Action)
}
