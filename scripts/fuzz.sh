#!/usr/bin/env bash
# Runs every fuzz target of the module, each for FUZZTIME (default 5s), one
# after the other. Targets are found with `go test -list '^Fuzz'`, so a new
# Fuzz function, or a package that moves, is picked up without editing
# this file. A failing target leaves its input under the package's
# testdata/fuzz/<Target>/; the script runs the remaining targets, then
# names every failure and exits 1.
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

failed=()
count=0
start=$SECONDS
while read -r pkg name; do
  count=$((count + 1))
  echo "fuzz: $pkg $name for $FUZZTIME"
  if ! $GO test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg" >"${TMPDIR:-/tmp}/fuzz-$$.log" 2>&1; then
    cat "${TMPDIR:-/tmp}/fuzz-$$.log"
    failed+=("$pkg $name")
  else
    tail -n 1 "${TMPDIR:-/tmp}/fuzz-$$.log"
  fi
done <<<"$targets"
rm -f "${TMPDIR:-/tmp}/fuzz-$$.log"

echo "fuzz: $count targets in $((SECONDS - start))s, ${#failed[@]} failed"
if ((${#failed[@]})); then
  printf 'fuzz: FAILED %s\n' "${failed[@]}" >&2
  exit 1
fi
