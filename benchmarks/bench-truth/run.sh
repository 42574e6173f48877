#!/usr/bin/env bash
# Truth from the first request (issue 15, done-means 1): a FRESH `tokentap bench` process with
# default flags, Poisson RATE req/s for DURATION, against `tokentap emulate --fixed-timing
# FIRST/NEXT` (first token 80 ms after each request, then one every 12 ms, whatever else runs).
# Compares the bench's TTFT p50/p99 with the emulator's own (its --request-log: request read to
# first token handed to the socket), then does the same run with `--warmup 0` and reports whether
# the self-check flagged it (generator_late). Prints and writes $OUT/truth.md.
#
#   benchmarks/bench-truth/run.sh                       # 50 req/s for 30 s (the done-means)
#   DURATION=10s benchmarks/bench-truth/run.sh          # a quick check
#   MORE_WARMUPS="5s 10s" benchmarks/bench-truth/run.sh # also a row for each of these --warmup values
#
# The emulator gets RATE req/s for SERVER_WARMUP first, from a bench that is thrown away, so its
# own cold start (it is a fresh JVM too) is not in the server's numbers: a real server is warm.
# The server's figures for a run are those of the run's last num_prompts arrivals (the measured
# requests come after the warm-up's). Percentiles as numpy computes them, like the bench's.
#
# Builds nothing: needs app/target/tokentap.jar (mvn -B -o -q package -DskipTests -pl app -am).
# Linux, Java 17, jq. Nothing is pinned: run it on a quiet machine; the load average is reported.
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/lib/procstat.sh
JAR=app/target/tokentap.jar
RATE=${RATE:-50}
DURATION=${DURATION:-30s}
TIMING=${TIMING:-80ms/12ms}
SERVER_WARMUP=${SERVER_WARMUP:-5s}
WORKLOAD=${WORKLOAD:-synthetic:input=128,output=16}
SEED=${SEED:-0}
EMU_PORT=${EMU_PORT:-18110}
OUT=${OUT:-benchmarks/bench-truth/results}
MORE_WARMUPS=${MORE_WARMUPS:-}

[[ -f $JAR ]] || { echo "$JAR not found: mvn -B -o -q package -DskipTests -pl app -am" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq not found" >&2; exit 1; }
WORK=$(mktemp -d /tmp/tokentap-bench-truth.XXXXXX)
mkdir -p "$OUT"
SERVER_LOG=$WORK/server.jsonl
EMU_PID=
cleanup() { [[ -n $EMU_PID ]] && kill "$EMU_PID" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

java -Xmx1g -jar "$JAR" emulate --fixed-timing "$TIMING" --listen "127.0.0.1:$EMU_PORT" \
  --request-log "$SERVER_LOG" >"$WORK/emulator.log" 2>&1 &
EMU_PID=$!
wait_port "$EMU_PORT"

# bench NAME EXTRA_FLAGS...: a fresh bench process; writes $WORK/NAME/result.json.
bench() {
  local name=$1; shift
  java -jar "$JAR" bench --target "http://127.0.0.1:$EMU_PORT" --workload "$WORKLOAD" \
    --load "poisson:$RATE" --seed "$SEED" --out "$WORK/$name" --progress off "$@" \
    >"$WORK/$name.out" 2>&1 || { cat "$WORK/$name.out" >&2; echo "bench $name failed (logs in $WORK)" >&2; exit 1; }
}

# server_stats FROM_LINE N: the emulator's TTFT p50 and p99 (ms) over the last N arrivals among
# its log lines after line FROM_LINE.
server_stats() {
  tail -n "+$(($1 + 1))" "$SERVER_LOG" | jq -rs --argjson n "$2" '
    def pct(p): ((length - 1) * p / 100) as $r | ($r | floor) as $lo | ([$lo + 1, length - 1] | min) as $hi
      | .[$lo] + (.[$hi] - .[$lo]) * ($r - $lo);
    map(select(.ttft_ms != null)) | sort_by(.arrival_unix_ms) | .[-$n:] | map(.ttft_ms) | sort
    | [length, pct(50), pct(99)] | map(. * 100 | round / 100) | join(" ")'
}

bench server-warmup --duration "$SERVER_WARMUP" --warmup 0

# measure NAME EXTRA_FLAGS...: one table row.
measure() {
  local name=$1; shift
  local from load
  from=$(wc -l <"$SERVER_LOG")
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  bench "$name" --duration "$DURATION" "$@"
  sleep 0.5  # the emulator logs a request once its last byte is written
  local r=$WORK/$name/result.json n
  n=$(jq -r .num_prompts "$r")
  read -r count sp50 sp99 < <(server_stats "$from" "$n")
  cp "$r" "$OUT/$name.json"
  jq -r --arg name "$name" --arg load "$load" --argjson count "$count" --argjson sp50 "$sp50" --argjson sp99 "$sp99" '
    def r2: . * 100 | round / 100;
    "| \($name) | \(.warmup_requests // "?") | \(.num_prompts) / \($count) | \(.p50_ttft_ms | r2) / \($sp50) | \(.p99_ttft_ms | r2) / \($sp99) | \((.p99_ttft_ms - $sp99) | r2) | \(.generator.socket_lateness_p99_ms | r2) | \(.generator.hiccup_max_ms | r2) | \(.generator_late) | \($load) |"' "$r"
}

COMMIT=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- bench proxy app emulator || echo "+changes")
{
  echo "Run on $(date -u +%Y-%m-%d) at $(date -u +%H:%M) UTC, commit \`$COMMIT\`, with \`benchmarks/bench-truth/run.sh\`:"
  echo "\`tokentap emulate --fixed-timing $TIMING\` (warmed by $SERVER_WARMUP at $RATE req/s first), then a fresh \`tokentap bench --load poisson:$RATE --duration $DURATION --workload $WORKLOAD --seed $SEED\` each row."
  echo "Machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)); $(java -version 2>&1 | head -1)."
  echo
  echo "| run | warm-up requests | measured requests: bench / server | TTFT p50 (ms): bench / server | TTFT p99 (ms): bench / server | p99 difference (ms) | socket lateness p99 (ms) | JVM hiccup max (ms) | generator_late | load average at start (1, 5, 15 min) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  measure default
  measure warmup-0 --warmup 0
  for w in $MORE_WARMUPS; do measure "warmup-$w" --warmup "$w"; done
} | tee "$OUT/truth.md"
echo "wrote $OUT/truth.md and the runs' result.json (logs in $WORK)" >&2
