#!/usr/bin/env bash
# How many concurrent streams, and events/s, one `tokentap bench` process sustains (issue 5,
# done-means 6). Closed-loop concurrency steps (LEVELS) against `tokentap emulate`, each in its own
# JVM; one bench process per step. The emulator is the fast profile paced to one token per STEP per
# stream (base-step = STEP, no per-sequence cost, capacities raised so every stream decodes at
# once): at N streams it offers N / STEP events/s, 50 N at the default 20 ms. Per step: the
# achieved concurrency, events/s received, both processes' CPU, the bench's heap, hiccups and
# errors. Stops after the first step where the bench's self-check calls the generator the
# bottleneck, a request fails, or the streams receive under 80% of the offered pace (the CPU
# columns say who fell behind). Prints and writes $OUT/scale.md; docs/bench.md explains the columns.
#
#   benchmarks/bench-scale/run.sh                                  # 100, 1000, 5000, 10000 streams
#   LEVELS=50,200 OUTPUT=64 HOLD=5s benchmarks/bench-scale/run.sh  # a quick check
#
# Builds nothing: needs app/target/tokentap.jar (mvn -B -o -q package -DskipTests -pl app -am).
# Linux and Java 17; levels whose sockets do not fit `ulimit -n` (one per stream in each process)
# are skipped. Nothing is pinned: the emulator competes with the bench for the cores, as on one
# host. About 40 s a step at the defaults. Never part of `mvn verify`.
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/lib/procstat.sh
JAR=app/target/tokentap.jar
LEVELS=${LEVELS:-100,1000,5000,10000}
STEP=${STEP:-20ms}
OUTPUT=${OUTPUT:-256}   # tokens per response: 5 s at 20 ms a token
HOLD=${HOLD:-20s}       # measured window of each step, after the first wave (the warm-up)
EMU_PORT=${EMU_PORT:-18200}
BENCH_JAVA_OPTS=${BENCH_JAVA_OPTS:-}  # more JVM options for the bench, e.g. -XX:StartFlightRecording=filename=bench.jfr
BENCH_HEAP=${BENCH_HEAP:-2g}
OUT=${OUT:-benchmarks/bench-scale/results}

[[ -f $JAR ]] || { echo "$JAR not found: mvn -B -o -q package -DskipTests -pl app -am" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
WORK=$(mktemp -d /tmp/tokentap-bench-scale.XXXXXX)
mkdir -p "$OUT"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# window_concurrency REQUESTS_JSONL N: the mean number of measured requests in flight between the
# N-th measured start (each slot has replaced its warm-up request by then, about) and the last
# start (after it the loop drains), from each request's start and E2E. The whole span when that
# window is empty.
window_concurrency() {
  jq -r 'select(.e2el_ms != null) | "\(.start_ms) \(.e2el_ms)"' "$1" | sort -n | awk -v n="$2" '
    { s[NR] = $1; e[NR] = $1 + $2; if ($1 + $2 > last) last = $1 + $2 }
    END {
      a = NR >= n ? s[n] : s[1]; b = s[NR]
      if (b - a < 1) { a = s[1]; b = last }
      for (i = 1; i <= NR; i++) { lo = s[i] > a ? s[i] : a; hi = e[i] < b ? e[i] : b; if (hi > lo) busy += hi - lo }
      printf "%.1f", (b > a ? busy / (b - a) : 0)
    }'
}

cat >"$WORK/emulator.conf" <<CONF
tokentap.emulator {
  profile = fast
  engine { base-step = $STEP, per-sequence-step = 0ms, max-num-seqs = 20000, max-batched-tokens = 40000, kv-cache-tokens = 1000000000 }
}
CONF
java -Xmx2g -jar "$JAR" emulate --listen "127.0.0.1:$EMU_PORT" --config "$WORK/emulator.conf" >"$WORK/emulator.log" 2>&1 &
EMU_PID=$!; PIDS+=("$EMU_PID")
wait_port "$EMU_PORT"
STEP_MS=$(awk -v s="$STEP" 'BEGIN { v = s + 0; if (s ~ /us$/) v /= 1000; else if (s ~ /ms$/) v += 0; else if (s ~ /s$/) v *= 1000; print v }')

COMMIT=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- bench proxy app || echo "+changes")
{
  echo "Run on $(date -u +%Y-%m-%d) at $(date -u +%H:%M) UTC, commit \`$COMMIT\`, with \`benchmarks/bench-scale/run.sh\`: closed loop,"
  echo "$OUTPUT output tokens per request, emulator paced at one token per $STEP per stream, measured window $HOLD after the first wave, bench -Xmx$BENCH_HEAP, open-files limit $NOFILE."
  echo "Machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)); $(java -version 2>&1 | head -1). Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| streams | in flight (mean) | events/s offered | events/s received | TTFT p99 (ms) | ITL p50 / p99 (ms) | hiccup p99 / max (ms) | bench CPU (cores) | emulator CPU (cores) | bench heap peak / after GC (MiB) | bench RSS (MiB) | requests ok / failed | verdict |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
} | tee "$OUT/scale.md"

for N in ${LEVELS//,/ }; do
  if (( N + 300 > NOFILE )); then
    echo "| $N | skipped: needs about $((N + 300)) open files, the limit is $NOFILE | | | | | | | | | | | |" | tee -a "$OUT/scale.md"
    continue
  fi
  D=$WORK/c$N
  mkdir -p "$D"
  # The first N requests (the first wave, which also opens the connections) are the warm-up.
  java "-Xmx$BENCH_HEAP" $BENCH_JAVA_OPTS "-Xlog:gc:file=$D/gc.log" -jar "$JAR" bench \
    --target "http://127.0.0.1:$EMU_PORT" --workload "synthetic:input=64,output=$OUTPUT" \
    --load "concurrency:$N" --warmup "$N" --duration "$HOLD" --out "$D/run" >"$D/bench.out" 2>&1 &
  BENCH_PID=$!; PIDS+=("$BENCH_PID")
  sample_cpu "$D/cpu.txt" "$BENCH_PID" "$EMU_PID" &
  if ! wait "$BENCH_PID"; then
    echo "| $N | the bench exited with an error: $(tail -1 "$D/bench.out") | | | | | | | | | | | stop |" | tee -a "$OUT/scale.md"
    break
  fi
  sleep 1.2
  R=$D/run/result.json
  j() { jq -r "$1" "$R"; }
  read -r PEAK LIVE _ < <(gc_heap "$D/gc.log")
  COMPLETED=$(j .completed)
  FAILED=$(j .failed)
  # Streams in flight while the loop issued (not its ramp or drain); a stream receives its tokens
  # over its E2E, so they receive concurrency × Σ tokens / Σ E2E events/s together.
  CONC=$(window_concurrency "$D/run/requests.jsonl" "$N")
  RECEIVED=$(j ".total_output_tokens / (.mean_e2el_ms / 1000 * .completed) * $CONC | round")
  OFFERED=$(awk -v n="$N" -v s="$STEP_MS" 'BEGIN { printf "%d", n * 1000 / s }')
  BOTTLENECK=$(j .generator.bottleneck)
  VERDICT=ok
  STOP=
  if (( FAILED > 0 )); then VERDICT="errors: $(j '.errors | to_entries | map("\(.key) \(.value)") | join(", ")')"; STOP=1; fi
  if [[ $BOTTLENECK == true ]]; then VERDICT="GENERATOR-BOUND: $(j '.generator.warnings | join("; ")')"; STOP=1; fi
  if [[ $VERDICT == ok ]] && awk -v r="$RECEIVED" -v o="$OFFERED" 'BEGIN { exit !(r < 0.8 * o) }'; then
    VERDICT="behind: under 80% of the offered events/s"; STOP=1
  fi
  echo "| $N | $CONC | $OFFERED | $RECEIVED | $(j '.p99_ttft_ms | round') | $(j '[.p50_itl_ms, .p99_itl_ms] | map(. * 10 | round / 10) | join(" / ")') | $(j '[.generator.hiccup_p99_ms, .generator.hiccup_max_ms] | map(. * 10 | round / 10) | join(" / ")') | $(cpu_cores "$D/cpu.txt" 2) | $(cpu_cores "$D/cpu.txt" 3) | $PEAK / $LIVE | $(max_rss "$D/cpu.txt") | $COMPLETED / $FAILED | $VERDICT |" | tee -a "$OUT/scale.md"
  cp "$R" "$OUT/result-c$N.json"
  [[ -z $STOP ]] || break
done
echo "wrote $OUT/scale.md (logs in $WORK)" >&2
