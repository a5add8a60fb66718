# Oyster. `make test` is what CI runs (through .ci/run); `make bench` measures.
GO ?= go
export PATH := $(CURDIR)/.cache/tools/bin:$(PATH)

.PHONY: build test test-deps bench run

build:
	$(GO) build -o bin/registry ./cmd/registry

run: build
	./bin/registry

test-deps:
	./scripts/install-test-deps.sh

test: test-deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 40m ./...

bench: test-deps build
	./scripts/bench.sh
