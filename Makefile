# Lazyflow — one Makefile for the whole repository.
#   make run     the local service on http://127.0.0.1:8080 (embedded store and queues)
#   make test    every test tier: unit, conformance, browser (headless Chromium), the Mistral differential
#                tiers (workflows, expressions), fuzz (short), infra, emulator end to end, the Mistral client against lazyflow serve
# Everything a target needs is installed by the target itself, pinned, into .tools/ and .cache/.

SHELL := /bin/bash
GO    ?= go
ADDR  ?= 127.0.0.1:8080
DATA  ?= .lazyflow
# Lambda binaries: arm64 for AWS; the emulator runs them as host processes.
LAMBDA_ARCH ?= arm64
FUNCTIONS := api engine runner dlq sweeper
# A count, not a duration: go1.26's fuzz coordinator can fail a clean run with
# "context deadline exceeded" when a -fuzztime duration ends mid-execution (golang/go#75804).
FUZZTIME ?= 30000x
FUZZTIME_HUNT ?= 10m
ENV_FILE := .cache/localstack/env

.PHONY: run build build-lambdas cli lint test test-unit test-browser ui-screenshots test-fuzz test-infra test-e2e test-mistral test-expressions test-mistralclient fuzz-expr emulator-install \
        synth deploy local-up local-down bench bench-expr bench-smoke chaos fmt vet clean

run: cli ## serve the API locally (embedded durable store and queues)
	./build/lazyflow serve --addr $(ADDR) --data $(DATA)

cli:
	$(GO) build -o build/lazyflow ./cmd/lazyflow

build: cli build-lambdas ## the CLI and the Lambda bootstraps

build-lambdas:
	@for f in $(FUNCTIONS); do \
	  if [ -d functions/$$f ]; then \
	    echo "build functions/$$f ($(LAMBDA_ARCH))"; \
	    GOOS=linux GOARCH=$(LAMBDA_ARCH) CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath \
	      -o build/lambda/$$f/bootstrap ./functions/$$f || exit 1; \
	  fi; \
	done

# make test: the one command for every tier. The emulator is started (and stopped) here.
test: emulator-install
	@set -euo pipefail; \
	started=0; \
	if [ -z "$${AWS_ENDPOINT_URL:-}" ]; then localstack/up.sh; started=1; fi; \
	trap '[ $$started = 1 ] && localstack/down.sh' EXIT; \
	if [ -f $(ENV_FILE) ]; then set -a; . ./$(ENV_FILE); set +a; fi; \
	$(MAKE) --no-print-directory vet test-unit test-browser test-mistral test-expressions test-fuzz test-infra test-e2e test-mistralclient bench-smoke

emulator-install:
	localstack/install.sh

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(MAKE) --no-print-directory lint

# The shape the code keeps (README: "Working on the code"): staticcheck clean, go.mod tidy, no
# function over cyclomatic complexity 40 and no source file over 1,000 lines in core/, functions/
# and cmd/. The tools are pinned Go modules, run from the module cache.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
GOCYCLO     := github.com/fzipp/gocyclo/cmd/gocyclo@v0.6.0
lint:
	$(GO) run $(STATICCHECK) ./...
	$(GO) mod tidy -diff
	$(GO) run $(GOCYCLO) -over 40 -ignore '_test\.go$$' core functions cmd
	@big=$$(git ls-files 'core/*.go' 'functions/*.go' 'cmd/*.go' | grep -v '_test\.go$$' | xargs wc -l | awk '$$2 != "total" && $$1 > 1000'); \
	  test -z "$$big" || { echo "source files over 1,000 lines:"; echo "$$big"; exit 1; }

# The packages that talk to the emulator run one at a time: in parallel they load one
# MiniStack process enough that the SDK's retries of slow calls show up as conflicts.
EMULATOR_PKGS := ./functions/aws/... ./localstack
test-unit:
	$(GO) test -count=1 -timeout 20m -skip '^TestWorkflowDraws$$' $$($(GO) list ./... | grep -v -e /functions/aws/ -e '/localstack$$' -e '/functions/internal/webui$$')
	$(GO) test -count=1 -timeout 20m -p 1 $(EMULATOR_PKGS)

# The web UI in headless Chromium (Debian's chromium package, installed here when missing)
# against a real local server.
WEBUI := ./functions/internal/webui
test-browser:
	$(WEBUI)/testdata/install-chromium.sh
	$(GO) test -count=1 -timeout 10m $(WEBUI)

# The README's screenshots of the UI, taken by the browser tests.
ui-screenshots:
	$(WEBUI)/testdata/install-chromium.sh
	LAZYFLOW_UI_SCREENSHOTS=$(CURDIR)/docs $(GO) test -count=1 -run Browser $(WEBUI)

# Each fuzz target of our own code runs briefly with random mutation: no input may panic the
# loader or an expression language (a crash there is a bug of ours whatever the input).
# core/compat's differential target (core/expr against Mistral's evaluator, from core/compat/install.sh)
# is not mutated here: it still finds a new difference with Mistral about once in tens of thousands
# of inputs, which would fail a run at random on something the change under test never touched.
# Instead TestExpressionDraws judges EXPR_DRAWS distinct expressions drawn from the same grammar by
# a PRNG with a fixed seed (the same ones every run, so only a change can fail it), and the
# target's seeds (testdata/fuzz, every finding so far) replay. A plain `go test ./core/compat`
# (make test-unit) draws the first 5,000 of the same expressions.
EXPR_DRAWS ?= 20000
test-fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' core functions 2>/dev/null); do \
	  pkg=./$$(dirname $$f); \
	  [ "$$pkg" = ./core/compat ] && continue; \
	  for fz in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | cut -d' ' -f2); do \
	    echo "fuzz $$pkg $$fz ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$fz$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done
	@echo "draw ./core/compat ($(EXPR_DRAWS) expressions, fixed seed) and replay FuzzExpressionDifferential's seeds"
	@set -o pipefail; $(GO) test -count=1 -run '^(TestExpressionDraws|FuzzExpressionDifferential)$$' -v ./core/compat -expr-draws $(EXPR_DRAWS) | grep -v -e '^=== RUN' -e '^    --- SKIP' -e '^    --- PASS: FuzzExpressionDifferential/' -e ': known difference: '

# make fuzz-expr hunts with random mutation for as long as FUZZTIME_HUNT. A finding is fixed or
# excluded with its reason (core/compat/exprfuzz_test.go) and its input kept as a seed
# (testdata/fuzz/FuzzExpressionDifferential). TestExpressionDraws -expr-seed N checks other
# fixed draws, repeatably.
fuzz-expr:
	$(GO) test -run '^$$' -fuzz '^FuzzExpressionDifferential$$' -fuzztime $(FUZZTIME_HUNT) ./core/compat

# The differential tier: the real Mistral 23.0.0 (pinned, .tools/mistral-venv) runs the whole
# corpus in one process, then Lazyflow runs the same cases and a case of core/compat/baseline.txt
# that differs fails. The corpus must be what core/compat/extract.py extracts from that Mistral.
MISTRAL_OUT := .cache/mistral
# TestWorkflowDraws (test-mistral only; test-unit skips it) also runs WF_DRAWS random workflows of
# core/compat/wfgen_test.go, seed WF_SEED, on Mistral and Lazyflow: Mistral takes 1-5 s a workflow.
WF_DRAWS ?= 20
WF_SEED ?= 1
test-mistral:
	@set -euo pipefail; py="$$(core/compat/install.sh)"; mkdir -p $(MISTRAL_OUT); \
	pkg="$$($$py -c 'import mistral, os; print(os.path.dirname(mistral.__file__))')"; \
	$$py core/compat/extract.py "$$pkg" $(MISTRAL_OUT)/cases.json; \
	cmp -s $(MISTRAL_OUT)/cases.json core/compat/corpus/cases.json || \
	  { echo "core/compat/corpus/cases.json differs from what core/compat/extract.py extracts: copy $(MISTRAL_OUT)/cases.json over it"; exit 1; }; \
	$$py core/compat/oracle.py core/compat/corpus/cases.json $(MISTRAL_OUT)/results.json; \
	LAZYFLOW_MISTRAL_RESULTS="$(CURDIR)/$(MISTRAL_OUT)/results.json" $(GO) test -count=1 -timeout 20m -run '^(TestMistralDifferential|TestWorkflowDraws)$$' ./core/compat \
	  -wf-draws $(WF_DRAWS) -wf-seed $(WF_SEED)

# The expression tier: Mistral 23.0.0's own evaluator (yaql 3.2.0, Jinja2 3.1.6, same pinned venv)
# runs core/compat/corpus/expressions.json in one process, then core/expr runs the same cases and a case
# of core/compat/expr-baseline.txt that differs fails. The corpus must be what core/compat/exprcorpus.py builds.
EXPR_OUT := .cache/expressions
test-expressions:
	@set -euo pipefail; py="$$(core/compat/install.sh)"; mkdir -p $(EXPR_OUT); \
	yaql="$$($$py -c 'import collections.abc, yaql, os; print(os.path.dirname(yaql.__file__))')"; \
	$$py core/compat/exprcorpus.py "$$yaql" $(EXPR_OUT)/expressions.json; \
	cmp -s $(EXPR_OUT)/expressions.json core/compat/corpus/expressions.json || \
	  { echo "core/compat/corpus/expressions.json differs from what core/compat/exprcorpus.py builds: copy $(EXPR_OUT)/expressions.json over it"; exit 1; }; \
	$$py core/compat/exproracle.py core/compat/corpus/expressions.json $(EXPR_OUT)/results.json; \
	LAZYFLOW_EXPR_RESULTS="$(CURDIR)/$(EXPR_OUT)/results.json" $(GO) test -count=1 -run '^TestExpressionDifferential$$' ./core/compat

test-infra: build-lambdas
	cd infra && $(GO) test -count=1 ./...
	cd examples/aws-app/cdk && $(GO) test -count=1 ./...
	infra/synth.sh

# The real python-mistralclient (pinned, in .tools/mistralclient-venv) drives lazyflow serve's /v2.
test-mistralclient:
	functions/internal/mistralapi/mistralclient/install.sh
	$(GO) test -count=1 -tags mistralclient -timeout 10m ./functions/internal/mistralapi/mistralclient/

test-e2e:
	@if [ -d localstack/e2e ]; then $(GO) test -count=1 -tags e2e -timeout 30m ./localstack/e2e/; fi

synth: build-lambdas ## synthesize the CDK stack and lint it (offline)
	infra/synth.sh

deploy: build-lambdas ## deploy to the AWS account of the current credentials
	localstack/install.sh cdk
	cd infra && ../.tools/cdk/node_modules/.bin/cdk deploy --app 'go run .' --require-approval broadening

local-up: ## start the emulator (MiniStack + DynamoDB Local), no Docker
	localstack/install.sh ministack ddblocal
	localstack/up.sh

local-down:
	localstack/down.sh

# The chaos soak: the fault-injection suite (core/chaos) for CHAOS_DURATION per soak, on DynamoDB
# Local (functions/aws/dynamostore, its row saved to CHAOS_PARTS) and then on memory and bolt with
# kill -9 cycles of lazyflow serve; core/chaos writes every row to bench/chaos-results.md.
# The emulator is started (and stopped) as make test does. CHAOS_SEED=n replays from seed n.
# make test runs the suite's short form with the other unit tests.
CHAOS_DURATION ?= 10m
CHAOS_PARTS := $(CURDIR)/.cache/chaos-parts
CHAOS_ENV = CHAOS_DURATION=$(CHAOS_DURATION) CHAOS_ITERATIONS=$(CHAOS_ITERATIONS) CHAOS_SEED=$(CHAOS_SEED) \
  CHAOS_PARTS=$(CHAOS_PARTS)
chaos:
	localstack/install.sh ministack ddblocal
	@set -euo pipefail; \
	rm -rf $(CHAOS_PARTS); \
	started=0; \
	if [ -z "$${AWS_ENDPOINT_URL:-}" ]; then localstack/up.sh ministack ddblocal; started=1; fi; \
	trap '[ $$started = 1 ] && localstack/down.sh ministack ddblocal' EXIT; \
	if [ -f $(ENV_FILE) ]; then set -a; . ./$(ENV_FILE); set +a; fi; \
	$(CHAOS_ENV) $(GO) test -count=1 -timeout 0 -run '^TestChaosSoakDynamoDBLocal$$' -v ./functions/aws/dynamostore; \
	$(CHAOS_ENV) CHAOS_RESULTS=$(CURDIR)/bench/chaos-results.md \
	  $(GO) test -count=1 -timeout 0 -run '^TestChaosSoak$$' -v ./core/chaos

# The benchmark harness on its smallest shapes, once: proves it runs (figures in bench/out/smoke.md).
bench-smoke:
	bench/run --smoke

# Expression evaluation against Mistral's yaql and Jinja2 (bench/expr/run): the ratio in bench/results.md.
bench-expr:
	bench/expr/run

bench: ## benchmarks and peer comparison (not part of make test)
	@if [ -x bench/run ]; then bench/run; else $(GO) test -run '^$$' -bench . -benchmem ./core/...; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf build infra/cdk.out examples/aws-app/cdk/cdk.out
