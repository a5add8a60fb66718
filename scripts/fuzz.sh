#!/usr/bin/env bash
# Runs every fuzz target of the module, each for FUZZTIME (default 5s), one
# after the other. Targets are found with `go test -list '^Fuzz'`, so a new
# Fuzz function, or a package that moves, is picked up without editing
# this file. A failing target leaves its input under the package's
# testdata/fuzz/<Target>/; the script runs the remaining targets, then
# names every failure and exits 1. A target stopped by Go's own race at the
# end of -fuzztime (golang/go#75804: "context deadline exceeded", no input
# written) runs once more; a second failure counts.
#
#   FUZZTIME=2m scripts/fuzz.sh         # longer runs
#   FUZZ_PKGS=./oci/... scripts/fuzz.sh # some packages only
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-5s}
# Minimizing every new interesting input would take the whole of a short
# run on large seeds (rpm databases); a few tries keep a failure's input
# small enough to read.
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-10x}
read -r -a pkgs <<<"${FUZZ_PKGS:-./...}"

# `go test -list` prints a package's matching names, then its "ok <pkg>" line.
targets=$($GO test -run '^$' -list '^Fuzz' "${pkgs[@]}" | awk '
  /^Fuzz/ { names[n++] = $1; next }
  /^ok/   { for (i = 0; i < n; i++) print $2, names[i]; n = 0 }')
if [[ -z $targets ]]; then
  echo "fuzz: no fuzz targets found in ${pkgs[*]}" >&2
  exit 1
fi

log=${TMPDIR:-/tmp}/fuzz-$$.log
trap 'rm -f "$log"' EXIT

# fuzz_once runs one target; its output goes to $log.
fuzz_once() {
  $GO test -run '^$' -fuzz "^${2}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$1" >"$log" 2>&1 </dev/null
}

# shutdown_race tells Go's fuzz coordinator race at the end of -fuzztime
# (golang/go#75804, fixed in Go 1.27): a bare "context deadline exceeded"
# with no failing input written. A real finding always writes its input.
shutdown_race() {
  grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written to' "$log"
}

failed=()
count=0
start=$SECONDS
while read -r pkg name; do
  count=$((count + 1))
  echo "fuzz: $pkg $name for $FUZZTIME"
  if fuzz_once "$pkg" "$name"; then
    tail -n 1 "$log"
    continue
  fi
  if shutdown_race; then
    echo "fuzz: $name stopped on Go's end-of-fuzztime race (golang/go#75804), no input found; running it again"
    if fuzz_once "$pkg" "$name"; then
      tail -n 1 "$log"
      continue
    fi
  fi
  cat "$log"
  failed+=("$pkg $name")
done <<<"$targets"

echo "fuzz: $count targets in $((SECONDS - start))s, ${#failed[@]} failed"
if ((${#failed[@]})); then
  printf 'fuzz: FAILED %s\n' "${failed[@]}" >&2
  exit 1
fi
