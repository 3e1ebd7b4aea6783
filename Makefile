# Lazyflow — one Makefile for the whole repository.
#   make run     the local service on http://127.0.0.1:8080 (embedded store and queues)
#   make test    every test tier: unit, conformance, fuzz (short), infra, emulator end to end
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
ENV_FILE := .cache/localstack/env

.PHONY: run build build-lambdas cli test test-unit test-fuzz test-infra test-e2e emulator-install \
        synth deploy local-up local-down bench bench-smoke chaos fmt vet clean

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
	$(MAKE) --no-print-directory vet test-unit test-fuzz test-infra test-e2e bench-smoke

emulator-install:
	localstack/install.sh

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# The packages that talk to the emulator run one at a time: in parallel they load one
# MiniStack process enough that the SDK's retries of slow calls show up as conflicts.
EMULATOR_PKGS := ./functions/aws/... ./localstack
test-unit:
	$(GO) test -count=1 -timeout 20m $$($(GO) list ./... | grep -v -e /functions/aws/ -e '/localstack$$')
	$(GO) test -count=1 -timeout 20m -p 1 $(EMULATOR_PKGS)

# Each fuzz target runs briefly: no input may panic the loader or an expression language.
test-fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' core functions 2>/dev/null); do \
	  pkg=./$$(dirname $$f); \
	  for fz in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | cut -d' ' -f2); do \
	    echo "fuzz $$pkg $$fz ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$fz$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

test-infra: build-lambdas
	cd infra && $(GO) test -count=1 ./...
	infra/synth.sh

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

# The chaos soak: the fault-injection suite (core/chaos) for CHAOS_DURATION, its counts in
# bench/chaos-results.md. make test runs its short form with the other unit tests.
CHAOS_DURATION ?= 10m
chaos:
	CHAOS_DURATION=$(CHAOS_DURATION) CHAOS_ITERATIONS=$(CHAOS_ITERATIONS) CHAOS_RESULTS=$(CURDIR)/bench/chaos-results.md \
	  $(GO) test -count=1 -timeout 0 -run '^TestChaosSoak$$' -v ./core/chaos

# The benchmark harness on its smallest shapes, once: proves it runs (figures in bench/out/smoke.md).
bench-smoke:
	bench/run --smoke

bench: ## benchmarks and peer comparison (not part of make test)
	@if [ -x bench/run ]; then bench/run; else $(GO) test -run '^$$' -bench . -benchmem ./core/...; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf build infra/cdk.out
