# The project's commands. `make demo` and `make test` are the two the
# README starts with; both work on a fresh clone with only Go installed.

GO  ?= go
BIN ?= bin

.PHONY: all build dist image report deploy-check test e2e conformance fuzz bench peers demo lint clean

all: lint test

## build: the binaries, into bin/
build:
	$(GO) build -buildvcs=auto -o $(BIN)/ ./impl/cmd/...

## dist: static binaries (no cgo: no libc to find at run time) into dist/,
## for an image FROM scratch (the Dockerfile) or any Linux host
DIST ?= dist
dist:
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -trimpath -o $(DIST)/ ./impl/cmd/...

## image: the container image, echospec/echo:VERSION and :latest, FROM
## scratch with make dist's binaries (their -version names the revision),
## built by podman, or by docker where only its engine runs. VERSION is
## git describe's: a tag, or the commit, "-dirty" if the tree is.
IMAGE   ?= echospec/echo
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
ENGINE  ?= $(shell if podman info >/dev/null 2>&1; then echo podman; elif docker info >/dev/null 2>&1; then echo docker; else echo podman; fi)
image: dist
	$(ENGINE) build -t $(IMAGE):$(VERSION) -t $(IMAGE):latest -f Dockerfile .

## deploy-check: the deployment files (deploy/: Kubernetes manifests decoded
## strictly into the API's types, systemd units, the Dockerfile) checked
## against the binaries, in deploy/'s own module, which keeps Kubernetes'
## dependencies out of the main one
deploy-check:
	cd deploy && $(GO) vet ./... && $(GO) test -count=1 ./...

## test: vet, then every unit test and every scenario, with the race detector
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

## e2e: every scenario against the binaries, run as processes. The test
## binary runs by itself (from steps/, where the features are found), so
## that the last line printed counts the scenarios: passed, failed,
## skipped and why.
e2e: build
	$(GO) test -c -o $(BIN)/steps.test ./steps
	cd steps && $(abspath $(BIN))/steps.test -test.run 'TestFeatures$$' -echo.mode=process -echo.bin=$(abspath $(BIN))

## conformance: the @rfc862 scenarios against any echo service:
##   make conformance TCP=host:port UDP=host:port [MAX_DATAGRAM=bytes]
## Either address may be left out; that protocol's scenarios are skipped.
## As in e2e, the last line printed is the count: "8 passed, 0 failed,
## 5 skipped (no UDP address)" for a TCP address alone.
conformance:
	@if [ -z "$(TCP)$(UDP)" ]; then echo "usage: make conformance TCP=host:port UDP=host:port [MAX_DATAGRAM=bytes]" >&2; exit 2; fi
	$(GO) test -c -o $(BIN)/steps.test ./steps
	cd steps && $(abspath $(BIN))/steps.test -test.run 'TestFeatures$$' -test.v -echo.mode=conformance \
		-echo.tcp='$(TCP)' -echo.udp='$(UDP)' -echo.max-datagram=$(or $(MAX_DATAGRAM),0) -godog.tags=@rfc862 -godog.format=pretty

## fuzz: each fuzz target for FUZZTIME (default 1m): arbitrary input, split
## at arbitrary points, must come back whole with every message in bounds
FUZZTIME ?= 1m
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLineFraming$$' -fuzztime $(FUZZTIME) ./impl/tcpecho
	$(GO) test -run '^$$' -fuzz '^FuzzFixedFraming$$' -fuzztime $(FUZZTIME) ./impl/tcpecho
	$(GO) test -run '^$$' -fuzz '^FuzzStreamFraming$$' -fuzztime $(FUZZTIME) ./impl/tcpecho
	$(GO) test -run '^$$' -fuzz '^FuzzCore$$' -fuzztime $(FUZZTIME) ./impl/tcpecho
	$(GO) test -run '^$$' -fuzz '^FuzzUDPEcho$$' -fuzztime $(FUZZTIME) ./impl/udpecho

## bench: our servers against the stdlib baselines and gnet's event loop,
## alternating, in one run (a table, with the targets), then the framing
## hot paths' testing.B benchmarks. A benchmark, never part of make test.
## gnet is built from the nested module impl/cmd/echobench/peers, which
## keeps its dependencies out of the main module; where it cannot be
## built (no module proxy), its columns say it was not measured.
bench: build peers
	$(BIN)/echobench -compare -bin $(BIN)
	$(GO) test -run '^$$' -bench . -benchmem ./impl/tcpecho ./impl/echoadmin

## peers: the benchmark's peers into bin/, where they build: gnetecho, and
## the C floors epollecho and mmsgecho (with cc)
peers:
	cd impl/cmd/echobench/peers && $(GO) build -o $(abspath $(BIN))/ ./... || echo "make peers: gnetecho was not built; make bench leaves its columns empty" >&2
	cc -O2 -Wall -o $(BIN)/epollecho impl/cmd/echobench/peers/c/epollecho.c || echo "make peers: epollecho was not built (no C compiler?); make bench leaves its column empty" >&2
	cc -O2 -Wall -o $(BIN)/mmsgecho impl/cmd/echobench/peers/c/mmsgecho.c || echo "make peers: mmsgecho was not built (no C compiler?); make bench leaves its column empty" >&2

## demo: start both TCP servers, talk to them, show both sides, stop them
demo: build
	BIN=$(BIN) bash impl/demo/demo.sh

## report: every feature run against the binaries (as make e2e), and its
## results as a web page, build/report/index.html: godog's Cucumber JSON
## rendered by multiple-cucumber-html-reporter (internal/report, pinned by
## its package-lock.json; needs node and npm), then looked at in headless
## Chromium (a screenshot beside it). It exits with the run's status.
REPORT ?= build/report
report: build
	rm -rf $(REPORT) && mkdir -p $(REPORT)/json
	$(GO) test -c -o $(BIN)/steps.test ./steps
	cd steps && $(abspath $(BIN))/steps.test -test.run 'TestFeatures$$' -echo.mode=process -echo.bin=$(abspath $(BIN)) \
		-godog.format=cucumber:$(abspath $(REPORT))/json/features.json; echo $$? > $(abspath $(REPORT))/status
	cd internal/report && npm ci --no-audit --no-fund --silent && node render.js $(abspath $(REPORT))/json $(abspath $(REPORT))
	$(GO) test -count=1 -run 'TestReportInChromium$$' ./internal/report -report=$(abspath $(REPORT))/index.html
	@echo "make report: $(REPORT)/index.html"; exit $$(cat $(REPORT)/status)

## lint: golangci-lint (.golangci.yml: staticcheck, errorlint, revive,
## testifylint, gocyclo over 15, and depguard's rules on which package may
## import which), installed at the pinned version into bin/tools; then no
## test helper linked into a binary, even indirectly, and no executable
## tracked by git.
GOLANGCI_LINT_VERSION ?= v2.6.2
GOLANGCI_LINT := $(abspath $(BIN))/tools/golangci-lint
TEST_HELPERS := internal/testcert|internal/clitest|internal/testpeer|internal/eventline/eventlinetest|internal/metricstest
lint:
	@if ! "$(GOLANGCI_LINT)" version --short 2>/dev/null | grep -qx '$(patsubst v%,%,$(GOLANGCI_LINT_VERSION))'; then \
		echo "installing golangci-lint $(GOLANGCI_LINT_VERSION) into $(dir $(GOLANGCI_LINT))"; \
		GOFLAGS= GOBIN="$(dir $(GOLANGCI_LINT))" $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); \
	fi
	"$(GOLANGCI_LINT)" run ./...
	@linked=$$($(GO) list -deps ./impl/cmd/... | grep -E 'echospec/echo/($(TEST_HELPERS))$$' || true); \
	if [ -n "$$linked" ]; then echo "a binary links a test helper:"; echo "$$linked"; exit 1; fi
	@bash .ci/no-binaries.sh

## clean: remove what build made
clean:
	rm -rf $(BIN) $(DIST)
