#!/usr/bin/env bash
# `make bench`: Oyster's registry core against the reference registry
# (distribution v3.1.2), in the same run, on the same machine and disk.
#
#   1. push, pull and raw blob GET (curl, every layer) throughput of a 1 GiB image (4 × 256 MiB random,
#      uncompressed tar layers) with crane, fresh registry and storage for
#      every measurement, rounds alternating which registry goes first;
#   2. manifest HEAD and GET requests/s, by tag and by digest, over 100
#      keep-alive connections (bench/headload).
#
# Prints medians and the ratio Oyster/reference against issue 15's goals
# (push >= 2.0, pull >= 1.0, blob GET >= 1.3, manifests >= 3.5). A
# benchmark, not a test: it exits non-zero only when something
# breaks, never because a ratio misses the goal.
#
# Knobs (environment): BENCH_ROUNDS (5), BENCH_LAYERS (4), BENCH_LAYER_SIZE
# (268435456), BENCH_HEAD_CONNS (100), BENCH_HEAD_DURATION (5s),
# BENCH_HEAD_MAX (2000000 requests), BENCH_TMPDIR (/tmp; storage, image and
# pulls all live under one directory made there), BENCH_KEEP=1 keeps that
# directory and the registries' logs, BENCH_OYSTER_BIN (bin/registry) the
# Oyster binary to measure, BENCH_ZOT_BIN (unset) a zot binary to measure
# beside them (filesystem storage, dedupe and GC off).
#
# Oyster also runs with auth on ("oyster-auth": an htpasswd user, every
# namespace public): crane pushes and pulls as the logged-in user, curl's
# blob GETs and the manifest loads are anonymous, and "oyster-user" is the
# manifest load again with the user's bearer token. Its ratios against
# Oyster with auth off are printed apart (goal: pull >= 0.95, HEAD >= 0.9).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=$ROOT/.cache/tools/bin:$PATH

ROUNDS=${BENCH_ROUNDS:-5}
LAYERS=${BENCH_LAYERS:-4}
LAYER_SIZE=${BENCH_LAYER_SIZE:-268435456}
HEAD_CONNS=${BENCH_HEAD_CONNS:-100}
HEAD_DURATION=${BENCH_HEAD_DURATION:-5s}
HEAD_MAX=${BENCH_HEAD_MAX:-2000000}
TMPBASE=${BENCH_TMPDIR:-/tmp}

die() { echo "bench: $*" >&2; exit 1; }

for tool in crane registry-reference; do
  command -v "$tool" >/dev/null || die "$tool not found; run 'make bench' (it installs the test tools first)"
done
OYSTER_BIN=${BENCH_OYSTER_BIN:-$ROOT/bin/registry}
[[ -x $OYSTER_BIN ]] || die "$OYSTER_BIN not built; run 'make bench' (it builds first)"
ZOT_BIN=${BENCH_ZOT_BIN:-}
[[ -z $ZOT_BIN || -x $ZOT_BIN ]] || die "BENCH_ZOT_BIN=$ZOT_BIN is not an executable"
# KINDS are the registries measured; the first two are compared for the goals.
KINDS=(oyster reference oyster-auth)
[[ -z $ZOT_BIN ]] || KINDS+=(zot)
BENCH_USER=bench
BENCH_PASSWORD=bench-Password-1

WORK=$(mktemp -d "$TMPBASE/oyster-bench.XXXXXX")
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    echo "bench: kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- helpers

# free_port sets FREE_PORT to a loopback TCP port nothing answers on and that
# this script has not handed out before (call it directly, not in $(...)).
USED_PORTS=" "
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 40000))
    [[ $USED_PORTS == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      USED_PORTS+="$p "
      FREE_PORT=$p
      return
    fi
  done
  die "no free port found"
}

# median of the arguments (mean of the middle two for an even count)
median() {
  printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) print v[(NR+1)/2]; else printf "%.6f\n", (v[NR/2]+v[NR/2+1])/2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a/b; else print "-" }'; }

verdict() { # RATIO GOAL
  awk -v r="$1" -v g="$2" 'BEGIN { if (r + 0 >= g) printf "meets goal >= %s", g; else printf "BELOW GOAL >= %s", g }'
}

# start_registry KIND NAME → sets REG_PID, REG_PORT, REG_DATA, REG_LOG.
# Every registry gets an empty storage directory of its own. Another
# process on the machine may take the free port first: a registry that
# could not bind it is started again on another, up to three times.
start_registry() {
  local attempt
  for attempt in 1 2 3; do
    launch_registry "$@" && return
    grep -q 'address already in use' "$REG_LOG.err" || break
    rm -rf "$REG_DATA"
  done
  tail -20 "$REG_LOG.err" >&2
  die "$1 registry did not start on 127.0.0.1:$REG_PORT"
}

# launch_registry KIND NAME starts it once; false if it exits or does not
# answer.
launch_registry() {
  local kind=$1 name=$2
  free_port
  REG_PORT=$FREE_PORT
  REG_DATA=$WORK/$name
  REG_LOG=$WORK/logs/$name
  mkdir -p "$REG_DATA" "$WORK/logs"
  case $kind in
  oyster | oyster-auth)
    # The environment may carry OYSTER_* overrides; the benchmark runs the
    # defaults (plus the htpasswd file with auth on).
    local unset=() v auth=()
    for v in $(compgen -e | grep '^OYSTER_' || true); do unset+=(-u "$v"); done
    [[ $kind == oyster-auth ]] && auth=("OYSTER_AUTH_HTPASSWD_PATH=$WORK/htpasswd")
    env "${unset[@]}" "${auth[@]}" "$OYSTER_BIN" --addr "127.0.0.1:$REG_PORT" --data "$REG_DATA" \
      >"$REG_LOG.out" 2>"$REG_LOG.err" &
    ;;
  zot)
    cat >"$REG_DATA.json" <<EOF
{"distSpecVersion": "1.1.1",
 "storage": {"rootDirectory": "$REG_DATA/zot", "dedupe": false, "gc": false},
 "http": {"address": "127.0.0.1", "port": "$REG_PORT"},
 "log": {"level": "info"}}
EOF
    "$ZOT_BIN" serve "$REG_DATA.json" >"$REG_LOG.out" 2>"$REG_LOG.err" &
    ;;
  reference)
    cat >"$REG_DATA.yml" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $REG_DATA/registry
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:$REG_PORT
EOF
    # OTEL_TRACES_EXPORTER=none: distribution v3 otherwise exports a trace
    # of every request to localhost:4318 (see docs/benchmarks.md).
    OTEL_TRACES_EXPORTER=none registry-reference serve "$REG_DATA.yml" \
      >"$REG_LOG.out" 2>"$REG_LOG.err" &
    ;;
  *) die "unknown registry kind $kind" ;;
  esac
  REG_PID=$!
  PIDS+=("$REG_PID")
  local i
  for i in $(seq 100); do
    # any answer will do (401 with auth on): the registry listens
    if curl -sS -o /dev/null "http://127.0.0.1:$REG_PORT/v2/" 2>/dev/null; then
      return
    fi
    if ! kill -0 "$REG_PID" 2>/dev/null; then
      stop_registry "$REG_PID" # reaps it and forgets its PID
      return 1
    fi
    sleep 0.1
  done
  return 1
}

stop_registry() {
  local pid=$1 keep=() p
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# bytes stored under a directory (apparent sizes, so holes do not hide data)
stored_bytes() { du -sb "$1" | awk '{print $1}'; }

# CPU time (user + system, clock ticks) a process has used so far
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# percent of the machine's CPU busy over the next two seconds
busy_pct() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat)
  sleep 2
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.0f", (y[1] - x[1]) / (y[2] - x[2]) * 100 }'
}

# ---------------------------------------------------------------- machine

cpu_model=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem_total=$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
fs_info=$(df -PT "$WORK" | awk 'NR==2 {print $2 " on " $1}')
image_bytes=$((LAYERS * LAYER_SIZE))
image_mib=$((image_bytes / 1048576))
load_start=$(loadavg)
busy_start=$(busy_pct)

echo "================================================================"
echo " Oyster benchmark: registry core vs reference distribution v3.1.2"
echo "================================================================"
printf '  %-10s %s\n' \
  date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
  oyster "${OYSTER_BIN#$ROOT/}; tree at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' (uncommitted changes in the tree)')" \
  reference "registry-reference: $(cat "$ROOT/.cache/tools/bin/.registry-reference.version" 2>/dev/null || echo '?')" \
  client "crane: $(cat "$ROOT/.cache/tools/bin/.crane.version" 2>/dev/null || echo '?')" \
  machine "$(nproc) CPUs ($cpu_model), $mem_total memory, Linux $(uname -r)" \
  load "before the run: load average $load_start, CPUs $busy_start% busy with other work" \
  storage "filesystem driver, fresh directory under $WORK ($fs_info)" \
  image "$LAYERS x $((LAYER_SIZE / 1048576)) MiB random uncompressed tar layers = $image_bytes bytes" \
  method "$ROUNDS rounds per figure, alternating which registry goes first; medians" \
  units "MB/s = 10^6 bytes/s of layer data; CPU = registry process user+sys seconds"
[[ -z $ZOT_BIN ]] || printf '  %-10s %s\n' zot "$ZOT_BIN"
if ((busy_start > 20)); then
  echo "  WARNING: other work keeps the CPUs $busy_start% busy; figures will be noisy (see \"other CPU %\")."
fi
echo

# ---------------------------------------------------------------- image

echo "building bench helpers and generating the ${image_mib} MiB image (not timed) ..."
mkdir -p "$WORK/bin"
go build -o "$WORK/bin/mkimage" ./bench/mkimage
go build -o "$WORK/bin/headload" ./bench/headload
"$WORK/bin/mkimage" -out "$WORK/image" -layers "$LAYERS" -layer-size "$LAYER_SIZE" >/dev/null
"$WORK/bin/mkimage" -out "$WORK/small-image" -layers 1 -layer-size 4096 >/dev/null
# Read the image once so that every push reads it from the page cache.
cat "$WORK"/image/blobs/sha256/* >/dev/null
echo

# Credentials: crane reads them from $DOCKER_CONFIG. Every registry but
# oyster-auth is used anonymously (an empty configuration, whatever the
# user running the benchmark has in ~/.docker).
export DOCKER_CONFIG=$WORK/docker-anonymous
mkdir -p "$DOCKER_CONFIG"
echo '{}' >"$DOCKER_CONFIG/config.json"
go build -o "$WORK/bin/htpasswd" ./bench/htpasswd
HTPASSWD_PASSWORD=$BENCH_PASSWORD "$WORK/bin/htpasswd" -user "$BENCH_USER" >"$WORK/htpasswd"
# as_client KIND CMD... runs CMD as the client of KIND: logged in for
# oyster-auth (credentials for the registry's current port), else anonymous.
as_client() {
  local kind=$1
  shift
  if [[ $kind == oyster-auth ]]; then
    local dir=$WORK/docker-$REG_PORT
    mkdir -p "$dir"
    printf '{"auths": {"127.0.0.1:%s": {"auth": "%s"}}}\n' "$REG_PORT" \
      "$(printf '%s:%s' "$BENCH_USER" "$BENCH_PASSWORD" | base64 -w0)" >"$dir/config.json"
    DOCKER_CONFIG=$dir "$@"
  else
    "$@"
  fi
}
# round_order ROUND KIND... sets order: the kinds in odd rounds, reversed
# in even ones.
round_order() {
  local r=$1 i
  shift
  order=()
  if ((r % 2)); then
    order=("$@")
  else
    for ((i = $#; i >= 1; i--)); do order+=("${!i}"); done
  fi
}

# ---------------------------------------------------------------- measuring

NPROC=$(nproc)
# busy clock ticks of the whole machine so far
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }

# measure PID OUTFILE CMD... runs CMD (output to OUTFILE) and sets
#   M_WALL   wall seconds
#   M_SRV    CPU seconds the registry PID used meanwhile
#   M_END_TICKS, M_END_TIME  the registry's CPU ticks and the time at the end
#   M_OTHER  percent of the machine's CPU used by neither that registry nor
#            CMD: other processes, plus kernel threads (writeback, softirq).
#            High values mean the figure was measured on a busy machine.
measure() {
  local pid=$1 out=$2 c0 c1 b0 b1 u s
  shift 2
  local TIMEFORMAT='%3R %3U %3S'
  c0=$(cpu_ticks "$pid")
  b0=$(busy_ticks)
  { time "$@" >"$out" 2>&1; } 2>"$WORK/time.out" || { cat "$out" >&2; return 1; }
  b1=$(busy_ticks)
  c1=$(cpu_ticks "$pid")
  read -r M_WALL u s <"$WORK/time.out"
  M_END_TICKS=$c1
  M_END_TIME=$(date +%s.%N)
  M_SRV=$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", t / hz }')
  M_OTHER=$(awk -v b=$((b1 - b0)) -v hz="$CLK_TCK" -v srv="$M_SRV" -v u="$u" -v s="$s" -v w="$M_WALL" -v n="$NPROC" \
    'BEGIN { o = (b / hz - srv - u - s) / (w * n) * 100; if (o < 0) o = 0; printf "%.0f", o }')
}

# settle PID [TICKS TIME] waits until the registry has been idle for half a
# second (at most 4% of a CPU), at most 10 minutes, and sets
#   S_WALL  seconds until then (the idle half second not counted; polled
#           every 0.5 s, so an upper bound)
#   S_CPU   CPU seconds the registry used meanwhile
# both counted from TICKS and TIME (as measure left them) if given, else now.
# Work a registry does after answering, such as indexing what was pushed,
# then neither leaks into the next timed step nor goes unreported.
settle() {
  local pid=$1 c0=${2:-} t0=${3:-} prev cur i
  [[ -n $t0 ]] || t0=$(date +%s.%N)
  [[ -n $c0 ]] || c0=$(cpu_ticks "$pid")
  prev=$c0
  for ((i = 0; i < 1200; i++)); do
    sleep 0.5
    cur=$(cpu_ticks "$pid")
    ((cur - prev <= CLK_TCK / 50)) && break
    prev=$cur
  done
  S_WALL=$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { w = t1 - t0 - 0.5; if (w < 0) w = 0; printf "%.1f", w }')
  S_CPU=$(awk -v t=$((cur - c0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')
}

# ---------------------------------------------------------------- push & pull

declare -A PUSH PULL PUSHCPU PULLCPU PUSHOTHER PULLOTHER BGWALL BGCPU BLOB BLOBCPU BLOBOTHER
# The layers' digests, for the raw blob GETs: the blobs of the layout that
# have the layer size.
mapfile -t LAYER_DIGESTS < <(find "$WORK/image/blobs/sha256" -type f -size "${LAYER_SIZE}c" -printf 'sha256:%f\n')
((${#LAYER_DIGESTS[@]} == LAYERS)) || die "found ${#LAYER_DIGESTS[@]} layer blobs in the image, want $LAYERS"
measure_transfer() { # KIND ROUND
  local kind=$1 round=$2 name="$1-$2" ref stored pulled
  start_registry "$kind" "$name"
  settle "$REG_PID" # start-up work (Oyster reconciles its catalog)
  # A repository name of its own per run, on top of the fresh storage: no
  # blob can be mounted or skipped as already there.
  ref="127.0.0.1:$REG_PORT/bench/$kind-r$round:bench"

  sync # write back earlier runs' data outside the timed region
  measure "$REG_PID" "$WORK/logs/$name.push" as_client "$kind" crane push --insecure "$WORK/image" "$ref" ||
    die "push to $kind failed"
  PUSH[$kind,$round]=$(awk -v b="$image_bytes" -v w="$M_WALL" 'BEGIN { printf "%.1f", b / w / 1e6 }')
  PUSHCPU[$kind,$round]=$(awk -v c="$M_SRV" -v b="$image_bytes" 'BEGIN { printf "%.2f", c / (b / 1073741824) }')
  PUSHOTHER[$kind,$round]=$M_OTHER
  stored=$(stored_bytes "$REG_DATA")
  ((stored >= image_bytes)) || die "$kind stores $stored bytes after the push, less than the image's $image_bytes: was anything uploaded?"

  settle "$REG_PID" "$M_END_TICKS" "$M_END_TIME" # work the push left (Oyster indexes the image)
  BGWALL[$kind,$round]=$S_WALL
  BGCPU[$kind,$round]=$S_CPU

  sync
  measure "$REG_PID" "$WORK/logs/$name.pull" as_client "$kind" crane pull --insecure --format oci "$ref" "$WORK/pulled-$name" ||
    die "pull from $kind failed"
  PULL[$kind,$round]=$(awk -v b="$image_bytes" -v w="$M_WALL" 'BEGIN { printf "%.1f", b / w / 1e6 }')
  PULLCPU[$kind,$round]=$(awk -v c="$M_SRV" -v b="$image_bytes" 'BEGIN { printf "%.2f", c / (b / 1073741824) }')
  PULLOTHER[$kind,$round]=$M_OTHER
  pulled=$(stored_bytes "$WORK/pulled-$name/blobs")
  ((pulled >= image_bytes)) || die "pulled only $pulled bytes from $kind"

  # Raw blob GET: every layer with curl into /dev/null, one after another.
  local urls=() d
  for d in "${LAYER_DIGESTS[@]}"; do
    urls+=(-o /dev/null "http://127.0.0.1:$REG_PORT/v2/bench/$kind-r$round/blobs/$d")
  done
  measure "$REG_PID" "$WORK/logs/$name.blobget" curl -fsS "${urls[@]}" || die "blob GET from $kind failed"
  BLOB[$kind,$round]=$(awk -v b="$image_bytes" -v w="$M_WALL" 'BEGIN { printf "%.1f", b / w / 1e6 }')
  BLOBCPU[$kind,$round]=$(awk -v c="$M_SRV" -v b="$image_bytes" 'BEGIN { printf "%.2f", c / (b / 1073741824) }')
  BLOBOTHER[$kind,$round]=$M_OTHER

  stop_registry "$REG_PID"
  rm -rf "$REG_DATA" "$REG_DATA.yml" "$WORK/pulled-$name"
}

transfer_row() { # LABEL KIND ROUND
  printf '  %-5s %-11s | %8s %9s %6s | %8s %8s | %8s %9s %6s | %8s %9s %6s\n' "$1" "$2" \
    "${PUSH[$2,$3]}" "${PUSHCPU[$2,$3]}" "${PUSHOTHER[$2,$3]}" "${BGWALL[$2,$3]}" "${BGCPU[$2,$3]}" \
    "${PULL[$2,$3]}" "${PULLCPU[$2,$3]}" "${PULLOTHER[$2,$3]}" "${BLOB[$2,$3]}" "${BLOBCPU[$2,$3]}" "${BLOBOTHER[$2,$3]}"
}

echo "push / pull: crane push <OCI layout>, then crane pull --format oci once the registry is idle again;"
echo "a fresh registry and storage per row"
printf '  %-5s %-11s | %8s %9s %6s | %8s %8s | %8s %9s %6s | %8s %9s %6s\n' "" "" "push" "registry" "other" "after push:" "" "pull" "registry" "other" "blob GET" "registry" "other"
printf '  %-5s %-11s | %8s %9s %6s | %8s %8s | %8s %9s %6s | %8s %9s %6s\n' round registry "MB/s" "CPU s/GiB" "CPU %" "busy s" "CPU s" "MB/s" "CPU s/GiB" "CPU %" "MB/s" "CPU s/GiB" "CPU %"
# Warm-up, not counted: the first GiB a run writes costs the registry far more
# CPU than later ones (seen on this VM: 4-5 s/GiB instead of ~2.7 for the
# very first push), which would penalise whichever registry went first.
for kind in "${KINDS[@]}"; do
  measure_transfer "$kind" 0
  transfer_row w-up "$kind" 0
done
for ((r = 1; r <= ROUNDS; r++)); do
  round_order "$r" "${KINDS[@]}"
  for kind in "${order[@]}"; do
    measure_transfer "$kind" "$r"
    transfer_row "$r" "$kind" "$r"
  done
done
echo

# ---------------------------------------------------------------- manifest HEAD

echo "manifest GET and HEAD, by tag and by digest: bench/headload, $HEAD_CONNS connections, 1 s warm-up, then $HEAD_DURATION (at most $HEAD_MAX requests)"
declare -A HEADPORT HEADPID HEADDIGEST
for kind in "${KINDS[@]}"; do
  start_registry "$kind" "$kind-head"
  HEADPORT[$kind]=$REG_PORT
  HEADPID[$kind]=$REG_PID
  as_client "$kind" crane push --insecure "$WORK/small-image" "127.0.0.1:$REG_PORT/bench/head:latest" >"$WORK/logs/$kind-head.push" 2>&1 ||
    { cat "$WORK/logs/$kind-head.push" >&2; die "push of the small image to $kind failed"; }
  HEADDIGEST[$kind]=$(crane digest --insecure "127.0.0.1:$REG_PORT/bench/head:latest") || die "crane digest against $kind failed"
  settle "$REG_PID"
done
# oyster-user: the load on oyster-auth again, logged in (headload -login).
HEADPORT[oyster-user]=${HEADPORT[oyster-auth]}
HEADPID[oyster-user]=${HEADPID[oyster-auth]}
HEADDIGEST[oyster-user]=${HEADDIGEST[oyster-auth]}
LOAD_KINDS=("${KINDS[@]}" oyster-user)
# MANIFEST_CASES: id, method, reference ("tag" or "digest"); arrays RPS_<id>,
# CPU_<id> (registry µs per request) and OTHER_<id> hold each round's figures.
MANIFEST_CASES=("headtag HEAD tag" "gettag GET tag" "headdigest HEAD digest" "getdigest GET digest")
for c in "${MANIFEST_CASES[@]}"; do
  read -r id _ _ <<<"$c"
  declare -gA "RPS_$id" "CPU_$id" "OTHER_$id"
done
printf '  %-5s %-12s %-11s | %10s %8s %8s %9s %7s\n' "" "" "" "" "" "" "registry" "other"
printf '  %-5s %-12s %-11s | %10s %8s %8s %9s %7s\n' round request registry "requests/s" "p50 ms" "p99 ms" "CPU µs/req" "CPU %"
for ((r = 1; r <= ROUNDS; r++)); do
  for c in "${MANIFEST_CASES[@]}"; do
    read -r id method refkind <<<"$c"
    declare -n rps=RPS_$id cpu=CPU_$id other=OTHER_$id
    round_order "$r" "${LOAD_KINDS[@]}"
    for kind in "${order[@]}"; do
      ref=latest
      [[ $refkind == digest ]] && ref=${HEADDIGEST[$kind]}
      out=$WORK/logs/$kind-$id-$r.load
      login=()
      [[ $kind == oyster-user ]] &&
        login=(-user "$BENCH_USER" -login "http://127.0.0.1:${HEADPORT[$kind]}/auth/token?service=oyster&scope=repository:bench/head:pull")
      HEADLOAD_PASSWORD=$BENCH_PASSWORD measure "${HEADPID[$kind]}" "$out" "$WORK/bin/headload" -method "$method" \
        -url "http://127.0.0.1:${HEADPORT[$kind]}/v2/bench/head/manifests/$ref" \
        -c "$HEAD_CONNS" -d "$HEAD_DURATION" -n "$HEAD_MAX" "${login[@]}" ||
        die "$method load against $kind failed"
      line=$(grep '^RESULT ' "$out")
      field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
      rps[$kind,$r]=$(field rps)
      cpu[$kind,$r]=$(awk -v c="$M_SRV" -v rps="${rps[$kind,$r]}" -v w="$M_WALL" \
        'BEGIN { printf "%.0f", c * 1e6 / (rps * w) }')
      other[$kind,$r]=$M_OTHER
      printf '  %-5s %-12s %-11s | %10.0f %8.2f %8.2f %9s %7s\n' "$r" "$method $refkind" "$kind" "${rps[$kind,$r]}" \
        "$(field p50_ms)" "$(field p99_ms)" "${cpu[$kind,$r]}" "${other[$kind,$r]}"
    done
    unset -n rps cpu other
  done
done
for kind in "${KINDS[@]}"; do stop_registry "${HEADPID[$kind]}"; done
echo

# ---------------------------------------------------------------- summary

collect() { # ARRAYNAME KIND → the values of every round
  local -n arr=$1
  local r
  for ((r = 1; r <= ROUNDS; r++)); do echo "${arr[$2,$r]}"; done
}
row() { # LABEL ARRAYNAME FORMAT NOTE [KIND BASE] (NOTE "goal=G": the verdict against the goal G)
  local o r q
  o=$(median $(collect "$2" "${5:-oyster}"))
  r=$(median $(collect "$2" "${6:-reference}"))
  q=$(ratio "$o" "$r")
  printf "  %-22s $3 $3 %8s  %s\n" "$1" "$o" "$r" "$q" "$([[ $4 == goal=* ]] && verdict "$q" "${4#goal=}" || echo "$4")"
}
echo "summary: medians of $ROUNDS rounds; goals are for Oyster/reference (issue 15)"
printf '  %-22s %10s %10s %8s\n' "" oyster reference ratio
row "push MB/s" PUSH %10.1f goal=2.0
row "pull MB/s" PULL %10.1f goal=1.0
row "blob GET MB/s" BLOB %10.1f goal=1.3
for c in "${MANIFEST_CASES[@]}"; do
  read -r id method refkind <<<"$c"
  row "$method by $refkind req/s" "RPS_$id" %10.0f goal=3.5
done
row "push CPU s/GiB" PUSHCPU %10.2f "(registry CPU; lower is better)"
row "after-push busy s" BGWALL %10.1f "(registry still working after the push answered)"
row "after-push CPU s" BGCPU %10.2f "(CPU of that work)"
row "pull CPU s/GiB" PULLCPU %10.2f "(registry CPU; lower is better)"
row "blob GET CPU s/GiB" BLOBCPU %10.2f "(registry CPU; lower is better)"
for c in "${MANIFEST_CASES[@]}"; do
  read -r id method refkind <<<"$c"
  row "$method $refkind CPU µs/req" "CPU_$id" %10.0f "(registry CPU; lower is better)"
done
echo
echo "auth on against auth off (Oyster): oyster-auth, crane logged in, curl and manifest loads anonymous;"
echo "oyster-user, the manifest loads with the user's bearer token; goal: pull >= 0.95, HEAD >= 0.9"
printf '  %-22s %10s %10s %8s\n' "" "auth on" "auth off" ratio
row "push MB/s, logged in" PUSH %10.1f "" oyster-auth oyster
row "pull MB/s, logged in" PULL %10.1f goal=0.95 oyster-auth oyster
row "blob GET MB/s, anon" BLOB %10.1f "" oyster-auth oyster
for c in "${MANIFEST_CASES[@]}"; do
  read -r id method refkind <<<"$c"
  goal=""
  [[ $method == HEAD ]] && goal=goal=0.9
  row "$method $refkind req/s, anon" "RPS_$id" %10.0f "$goal" oyster-auth oyster
  row "$method $refkind req/s, user" "RPS_$id" %10.0f "$goal" oyster-user oyster
done
row "HEAD tag CPU µs, user" CPU_headtag %10.0f "(registry CPU per request)" oyster-user oyster
if [[ -n $ZOT_BIN ]]; then
  echo
  echo "zot ($ZOT_BIN) in the same run: zot against the reference, then Oyster against zot"
  printf '  %-22s %10s %10s %8s\n' "" zot reference ratio
  for pair in "push MB/s:PUSH:%10.1f" "pull MB/s:PULL:%10.1f" "blob GET MB/s:BLOB:%10.1f" "push CPU s/GiB:PUSHCPU:%10.2f" \
    "pull CPU s/GiB:PULLCPU:%10.2f" "HEAD by tag req/s:RPS_headtag:%10.0f" "GET by tag req/s:RPS_gettag:%10.0f" \
    "HEAD by digest req/s:RPS_headdigest:%10.0f" "GET by digest req/s:RPS_getdigest:%10.0f"; do
    IFS=: read -r label arr fmt <<<"$pair"
    row "$label" "$arr" "$fmt" "" zot reference
  done
  printf '  %-22s %10s %10s %8s\n' "" oyster zot ratio
  for pair in "push MB/s:PUSH:%10.1f" "pull MB/s:PULL:%10.1f" "blob GET MB/s:BLOB:%10.1f" \
    "HEAD by tag req/s:RPS_headtag:%10.0f" "GET by tag req/s:RPS_gettag:%10.0f"; do
    IFS=: read -r label arr fmt <<<"$pair"
    row "$label" "$arr" "$fmt" "" oyster zot
  done
fi
echo
per_round_ratios() { # ARRAYNAME → "r1 r2 ..." Oyster/reference round by round
  local -n arr=$1
  local r out=()
  for ((r = 1; r <= ROUNDS; r++)); do out+=("$(ratio "${arr[oyster,$r]}" "${arr[reference,$r]}")"); done
  echo "${out[*]}"
}
echo "  per-round ratios (each round's two registries ran back to back):"
echo "    push  $(per_round_ratios PUSH)"
echo "    pull  $(per_round_ratios PULL)"
echo "    blob GET  $(per_round_ratios BLOB)"
for c in "${MANIFEST_CASES[@]}"; do
  read -r id method refkind <<<"$c"
  echo "    $method $refkind  $(per_round_ratios "RPS_$id")"
done
# Rounds where neither registry had to share the machine with other work are
# the trustworthy ones on a shared machine: show their ratios on their own.
quiet_ratios() { # ARRAYNAME OTHERARRAYNAME → "ratio(round) ..." of quiet rounds
  local -n arr=$1 oth=$2
  local r out=()
  for ((r = 1; r <= ROUNDS; r++)); do
    if ((${oth[oyster,$r]} <= QUIET && ${oth[reference,$r]} <= QUIET)); then
      out+=("$(ratio "${arr[oyster,$r]}" "${arr[reference,$r]}")(r$r)")
    fi
  done
  echo "${out[*]:-none}"
}
QUIET=10
echo "  ratios of the quiet rounds only (other CPU <= $QUIET% for both registries):"
echo "    push  $(quiet_ratios PUSH PUSHOTHER)"
echo "    pull  $(quiet_ratios PULL PULLOTHER)"
echo "    blob GET  $(quiet_ratios BLOB BLOBOTHER)"
for c in "${MANIFEST_CASES[@]}"; do
  read -r id method refkind <<<"$c"
  echo "    $method $refkind  $(quiet_ratios "RPS_$id" "OTHER_$id")"
done
all_other=()
for ((r = 1; r <= ROUNDS; r++)); do
  for kind in "${KINDS[@]}"; do
    all_other+=("${PUSHOTHER[$kind,$r]}" "${PULLOTHER[$kind,$r]}" "${BLOBOTHER[$kind,$r]}")
  done
  for kind in "${LOAD_KINDS[@]}"; do
    for c in "${MANIFEST_CASES[@]}"; do
      read -r id _ _ <<<"$c"
      declare -n other=OTHER_$id
      all_other+=("${other[$kind,$r]}")
      unset -n other
    done
  done
done
other_median=$(printf "%.0f" "$(median "${all_other[@]}")")
echo "  other CPU (neither registry nor client) during the measurements: median ${other_median}% of the machine"
if awk -v o="$other_median" 'BEGIN { exit !(o > 15) }'; then
  echo "  WARNING: other work competed for the CPUs; differences of 10-20% are within the noise. Rerun on a quiet machine."
fi
echo "  load average $load_start at start, $(loadavg) at the end"
