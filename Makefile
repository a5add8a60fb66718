# Oyster. `make test` is what CI runs (through .ci/run); `make bench` measures.
GO ?= go
export PATH := $(CURDIR)/.cache/tools/bin:$(PATH)

# Packages whose code runs goroutines or shares caches (indexer, search,
# state caches, referrers, the server and its handlers, the Library API's
# upload sessions, the stager's fetches, gitsync's queue), as patterns so
# that packages moving inside these trees stay covered.
RACE_PKGS ?= ./catalog/... ./referrers/... ./server/... ./web/... ./stager/... ./library/... ./gitsync/...
# How long each fuzz target runs in `make fuzz` (and so in `make test`).
FUZZTIME ?= 5s

.PHONY: build image-files test test-unit test-race fuzz test-deps bench bench-registry bench-stager bench-gitsync bench-go load run

build:
	$(GO) build -o bin/registry ./cmd/registry
	$(GO) build -o bin/stager ./cmd/stager

# What the Dockerfile's "prebuilt" target copies: a static binary and the
# host's CA bundle, for machines that cannot pull a Go toolchain image.
image-files:
	mkdir -p prebuilt/data
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o prebuilt/registry ./cmd/registry
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o prebuilt/stager ./cmd/stager
	cp /etc/ssl/certs/ca-certificates.crt prebuilt/ca-certificates.crt

run: build
	./bin/registry

test-deps:
	./scripts/install-test-deps.sh

test: test-deps test-unit test-race fuzz

# Every package's tests, e2e included (real clients against the binary).
test-unit:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 40m ./...

test-race:
	$(GO) test -race -count=1 -timeout 20m $(RACE_PKGS)

# Every Fuzz target found by `go test -list`, FUZZTIME each:
# `make fuzz FUZZTIME=2m` for a longer run.
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) ./scripts/fuzz.sh

# Every figure is a ratio or percentile against the goal its issue names;
# docs/benchmarks.md records them.
bench: bench-registry bench-stager bench-gitsync bench-go

bench-registry: test-deps build
	./scripts/bench.sh

# Issue 11's figures: staging vs crane and skopeo, SIF vs mksquashfs,
# `stager path` p99.
bench-stager: test-deps build
	./scripts/bench-stager.sh

# Git-driven builds: push -> build started, build finished -> searchable,
# and the last-step rebuild ratio through Oyster's layer cache
# (docs/benchmarks-gitsync.md).
bench-gitsync: test-deps build
	$(GO) run ./bench/gitsync -bin bin/registry

# A soak test for people, not CI: bench/load holds a fresh registry under
# 200 pullers, 20 pushers and 50 searchers for 5 minutes and reports errors,
# p99 latencies and the registry's RSS each minute. LOAD_FLAGS changes them
# (e.g. LOAD_FLAGS="-d 1m -pullers 50").
load: build
	$(GO) run ./bench/load -bin bin/registry $(LOAD_FLAGS)

# Benchmarks by name over package trees, so they are found wherever they
# move inside those trees.
bench-go:
	$(GO) test -run XXX -bench '^BenchmarkLayerIndexing$$' -benchtime 3x -timeout 60m ./catalog/...
	$(GO) test -run XXX -bench '^BenchmarkReindexCachedImage$$' -benchtime 200x ./catalog/...
	$(GO) test -run XXX -bench '^BenchmarkWhiteouts$$' -benchtime 3x ./catalog/...
	$(GO) test -run XXX -bench '^BenchmarkPushToSearchable$$' -benchtime 100x ./server/...
	$(GO) test -run XXX -bench '^BenchmarkSearch$$' -timeout 60m ./catalog/...
	$(GO) test -run XXX -bench '^BenchmarkSearchPage$$' ./web/...
	$(GO) test -run XXX -bench '^BenchmarkImagePageMillionProblems$$' -benchtime 200x ./web/...
	$(GO) test -run XXX -bench 'BenchmarkHubProfiles' -benchtime 300x ./web/...
