# The project's commands. `make demo` and `make test` are the two the
# README starts with; both work on a fresh clone with only Go installed.

GO  ?= go
BIN ?= bin

.PHONY: all build test demo lint clean

all: lint test

## build: the binaries, into bin/
build:
	$(GO) build -o $(BIN)/ ./impl/cmd/...

## test: vet, then every unit test and every scenario, with the race detector
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

## demo: start both TCP servers, talk to them, show both sides, stop them
demo: build
	BIN=$(BIN) bash impl/demo/demo.sh

## lint: formatting and vet
lint:
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## clean: remove what build made
clean:
	rm -rf $(BIN)
