# Atiende — the two commands: `make run` and `make test`.
GO      ?= go
CASES   ?= $(wildcard eval/cases/*.jsonl)
BLIND   ?= $(wildcard eval/blind/*.jsonl)
DEV     ?= $(wildcard eval/dev/*.jsonl)
FUZZTIME ?= 20s
FUZZFLAGS ?=
# Go minimizes each new input for up to 60 s by default: JSON inputs stall the run there.
FUZZMINIMIZE ?= 2s
# Every fuzz target, as package:Target; `make test` runs their seeds as ordinary tests.
FUZZ    := ./retrieval:FuzzFold ./retrieval:FuzzKey ./retrieval:FuzzAnalyze ./retrieval:FuzzParseFichas \
	./retrieval:FuzzImportChileAtiende ./channels:FuzzGSMText ./channels:FuzzRenderSMS ./channels:FuzzRenderWhatsApp \
	./channels/twilio:FuzzMessagingWebhook ./channels/twilio:FuzzStatusWebhook ./eval:FuzzReadCases
export CGO_ENABLED ?= 0
# Go 1.27.3, fetched by the go command from the Go module proxy (about 10 s, once): the
# machine's Go 1.26.8 has standard-library vulnerabilities that `make lint` reports
# (docs/operations.md). Set GOTOOLCHAIN=local to build with the machine's Go.
export GOTOOLCHAIN ?= go1.27.3

.PHONY: help run test lint bench bench-scale fuzz eval train build fmt screenshots load blindcheck

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

run: ## serve the assistant on :8080 (embedded SQLite under ./data, bundled catalogue)
	$(GO) run ./cmd/atiende serve

build: ## build bin/atiende
	$(GO) build -o bin/atiende ./cmd/atiende

test: ## run every test (what CI runs); installs Chromium, axe-core, Postgres and pgvector for their tests when it can
	@scripts/ensure-chromium.sh >/dev/null || [ "$$CI" != true ] || { echo "CI needs Chromium (scripts/ensure-chromium.sh)"; exit 1; }
	@scripts/ensure-axe.sh >/dev/null || [ "$$CI" != true ] || { echo "CI needs axe-core (scripts/ensure-axe.sh)"; exit 1; }
	@{ url=$$(scripts/test-db.sh) && scripts/ensure-pgvector.sh "$$url"; } || [ "$$CI" != true ] || { echo "CI needs Postgres 15 with pgvector (scripts/test-db.sh, scripts/ensure-pgvector.sh)"; exit 1; }
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

lint: ## gofmt, go vet, govulncheck (a pinned snapshot of the Go vulnerability database: scripts/vulncheck.sh)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	scripts/vulncheck.sh

bench: ## retrieval, engine, report and log-masking benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./retrieval ./bot ./handoff/report ./redact

bench-scale: ## memory and latency at SIZES fichas, in memory and in Postgres (SIZES=2500,25000,250000; minutes)
	ATIENDE_BENCH_SIZES=$(or $(SIZES),2500,25000,250000) $(GO) test -run '^$$' -bench Scale -benchtime 1x -timeout 60m ./retrieval/pgsearch

fuzz: ## run each fuzz target for FUZZTIME (20s; FUZZFLAGS=-parallel=1 to spare cores); crashers land in testdata/fuzz
	@set -e; for t in $(FUZZ); do \
	  echo "== $${t#*:} ($${t%%:*}, $(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) $(FUZZFLAGS) $${t%%:*}; \
	done

screenshots: ## refresh docs/img/*.png from the browser tests
	ATIENDE_SCREENSHOTS=$(CURDIR)/docs/img $(GO) test -count=1 -run 'TestWidgetEmbeddedOnAnotherSite|TestWidgetNeverLosesAWord|TestDemoPage|TestWidgetConversation' ./channels/web
	ATIENDE_SCREENSHOTS=$(CURDIR)/docs/img $(GO) test -count=1 -run 'TestHandoffInTheBrowser|TestReplyKeptWhenTheConversationChanges|TestReportsInTheBrowser' ./cmd/atiende

load: ## start a server and drive simulated citizens at it (RATE=50 DURATION=10s; docs/performance.md)
	scripts/load.sh

train: ## rebuild the learned models (catalogue/model) from the fichas' questions, the banks and the concepts
	$(GO) run ./cmd/atiende train

eval: ## evaluation reports: the shipped cases (eval/cases), the unseen dev set (eval/dev), then the blind set (eval/blind), apart
	$(GO) run ./cmd/atiende eval $(CASES)
	@echo; echo "== dev set (eval/dev): written blind, read by the developers =="
	$(GO) run ./cmd/atiende eval --summary $(DEV)
	@echo; echo "== blind set (eval/blind): figures only; never tuned against =="
	$(GO) run ./cmd/atiende eval --summary $(BLIND)

blindcheck: ## list the lines a change adds (against BASE, default HEAD) that share words with the blind set; never prints a blind turn
	$(GO) run ./cmd/blindcheck $(or $(BASE),HEAD)

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')
