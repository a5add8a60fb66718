# Oyster. `make test` is what CI runs (through .ci/run); `make bench` measures.
GO ?= go
export PATH := $(CURDIR)/.cache/tools/bin:$(PATH)

.PHONY: build test test-deps bench bench-registry bench-go run

build:
	$(GO) build -o bin/registry ./cmd/registry

run: build
	./bin/registry

test-deps:
	./scripts/install-test-deps.sh

test: test-deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 40m ./...

# Every figure is a ratio or percentile against the goal its issue names;
# docs/benchmarks.md records them.
bench: bench-registry bench-go

bench-registry: test-deps build
	./scripts/bench.sh

bench-go:
	$(GO) test -run XXX -bench BenchmarkLayerIndexing -benchtime 3x -timeout 60m ./catalog/scan
	$(GO) test -run XXX -bench BenchmarkReindexCachedImage -benchtime 200x ./catalog/indexer
	$(GO) test -run XXX -bench BenchmarkPushToSearchable -benchtime 100x ./server
	$(GO) test -run XXX -bench BenchmarkSearch -timeout 60m ./catalog/search
	$(GO) test -run XXX -bench BenchmarkSearchPage ./web
	$(GO) test -run XXX -bench 'BenchmarkHubProfiles' -benchtime 300x ./web
