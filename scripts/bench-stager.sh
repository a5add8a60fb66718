#!/usr/bin/env bash
# `make bench` (stager part), issue 11's three figures in one run against a
# fresh Oyster registry holding a 1 GiB image (4 × 256 MiB random,
# uncompressed tar layers, made by bench/mkimage):
#
#   1. staging it to an OCI layout (`stager pull --format oci`, empty cache)
#      against `crane pull --format oci` and `skopeo copy
#      --preserve-digests` to an oci: directory; goal: stager as fast or
#      faster (time ratio crane/stager and skopeo/stager ≥ 1.0);
#   2. time to a runnable SIF (`stager pull --format sif`, blobs already in
#      the cache: unpack, metadata, mksquashfs, SIF assembly) against
#      mksquashfs alone on the unpacked rootfs, the conversion's floor;
#      goal: ≤ 1.2×;
#   3. `stager path` of the staged image, process start included: p99
#      under 20 ms (bench/stagerpath, 300 runs).
#
# Medians over BENCH_ROUNDS (3) rounds, tools alternating first. A benchmark,
# not a test: it fails only when something breaks. Knobs: BENCH_ROUNDS,
# BENCH_LAYERS (4), BENCH_LAYER_SIZE (268435456), BENCH_TMPDIR (/tmp),
# BENCH_KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=$ROOT/.cache/tools/bin:$PATH
ROUNDS=${BENCH_ROUNDS:-3}
LAYERS=${BENCH_LAYERS:-4}
LAYER_SIZE=${BENCH_LAYER_SIZE:-268435456}
TMPBASE=${BENCH_TMPDIR:-/tmp}

die() { echo "bench-stager: $*" >&2; exit 1; }
for tool in crane skopeo mksquashfs; do
  command -v "$tool" >/dev/null || die "$tool not found; run 'make bench' (it installs the test tools first)"
done
[[ -x bin/registry && -x bin/stager ]] || die "bin/registry and bin/stager not built; run 'make bench'"

WORK=$(mktemp -d "$TMPBASE/oyster-bench-stager.XXXXXX")
REG_PID=
cleanup() {
  [[ -n $REG_PID ]] && { kill -TERM "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; }
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "bench-stager: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# seconds CMD… → wall seconds of CMD (its output discarded)
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>"$WORK/last.err" || die "failed: $*: $(tail -n 3 "$WORK/last.err")"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }'
}

go build -o "$WORK/mkimage" ./bench/mkimage
go build -o "$WORK/stagerpath" ./bench/stagerpath
"$WORK/mkimage" -out "$WORK/image" -layers "$LAYERS" -layer-size "$LAYER_SIZE" >/dev/null

./bin/registry serve --addr 127.0.0.1:0 --data "$WORK/data" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 200); do
  HOST=$(grep -o 'msg="oyster registry listening" addr=[^ ]*' "$WORK/registry.log" | sed 's/.*addr=//' || true)
  [[ -n $HOST ]] && curl -sf "http://$HOST/healthz" >/dev/null && break
  sleep 0.1
done
[[ -n ${HOST:-} ]] || die "registry did not start: $(cat "$WORK/registry.log")"
REF=$HOST/bench/big:1
crane push --insecure "$WORK/image" "$REF" >/dev/null 2>&1 || die "crane push failed"
STAGER=(./bin/stager --registry "http://$HOST" --insecure)
BYTES=$((LAYERS * LAYER_SIZE))

declare -a T_STAGER T_CRANE T_SKOPEO T_SIF T_MKSQ
for round in $(seq "$ROUNDS"); do
  order=(stager crane skopeo)
  ((round % 2 == 0)) && order=(skopeo crane stager)
  for tool in "${order[@]}"; do
    out=$WORK/r$round-$tool
    rm -rf "$out"
    sync
    case $tool in
    stager) T_STAGER+=("$(seconds "${STAGER[@]}" pull --format oci --cache "$out" bench/big:1)") ;;
    crane) T_CRANE+=("$(seconds crane pull --insecure --format oci "$REF" "$out")") ;;
    skopeo) T_SKOPEO+=("$(seconds skopeo copy --preserve-digests --src-tls-verify=false "docker://$REF" "oci:$out:latest")") ;;
    esac
  done
  # SIF from blobs already staged, and mksquashfs alone on the same rootfs.
  cache=$WORK/r$round-stager
  T_SIF+=("$(seconds "${STAGER[@]}" pull --format sif --cache "$cache" bench/big:1)")
  rootfs=$("${STAGER[@]}" pull --format rootfs --cache "$cache" bench/big:1 | tail -n 1)
  T_MKSQ+=("$(seconds mksquashfs "$rootfs" "$WORK/floor.sqfs" -noappend -all-root -no-progress -quiet)")
  rm -f "$WORK/floor.sqfs"
  echo "round $round: stager ${T_STAGER[-1]} s, crane ${T_CRANE[-1]} s, skopeo ${T_SKOPEO[-1]} s; sif ${T_SIF[-1]} s, mksquashfs ${T_MKSQ[-1]} s"
  [[ $round -lt $ROUNDS ]] && rm -rf "$WORK"/r"$round"-*
done
read -r P50 P99 < <("$WORK/stagerpath" -n 300 -- "${STAGER[@]}" path --format sif --cache "$WORK/r$ROUNDS-stager" bench/big:1)

s=$(median "${T_STAGER[@]}"); c=$(median "${T_CRANE[@]}"); k=$(median "${T_SKOPEO[@]}")
sif=$(median "${T_SIF[@]}"); mksq=$(median "${T_MKSQ[@]}")
mbs() { awk -v b="$BYTES" -v t="$1" 'BEGIN { printf "%.0f", b / t / 1e6 }'; }
echo
echo "stager benchmarks ($LAYERS × $LAYER_SIZE bytes, median of $ROUNDS rounds, $(nproc) cores)"
printf '%-44s %10s %10s\n' "measure" "value" "goal"
printf '%-44s %8s s %10s\n' "stage to OCI layout: stager" "$s" "($(mbs "$s") MB/s)"
printf '%-44s %8s s %10s\n' "  crane pull --format oci" "$c" "($(mbs "$c") MB/s)"
printf '%-44s %8s s %10s\n' "  skopeo copy --preserve-digests" "$k" "($(mbs "$k") MB/s)"
printf '%-44s %10s %10s\n' "  ratio crane/stager" "$(ratio "$c" "$s")" "≥ 1.0"
printf '%-44s %10s %10s\n' "  ratio skopeo/stager" "$(ratio "$k" "$s")" "≥ 1.0"
printf '%-44s %8s s\n' "runnable SIF from staged blobs" "$sif"
printf '%-44s %8s s\n' "  mksquashfs alone on the rootfs" "$mksq"
printf '%-44s %10s %10s\n' "  ratio SIF/mksquashfs" "$(ratio "$sif" "$mksq")" "≤ 1.2"
printf '%-44s %7s ms %10s\n' "stager path p50" "$P50" ""
printf '%-44s %7s ms %10s\n' "stager path p99" "$P99" "< 20 ms"
