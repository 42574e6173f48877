#!/usr/bin/env bash
# Open-loop accuracy of `tokentap bench` (issue 5, done-means 2): Poisson arrivals at RATE
# requests/s for DURATION against `tokentap emulate --profile fast`, each in its own JVM. Prints
# and writes to $OUT/accuracy.md: the target rate, the schedule's own rate, the rate the generator
# handed requests over at and vLLM's request_throughput, their ratios, the schedule lag
# p50/p99/max, JVM hiccups, both processes' CPU and the bench's heap. docs/bench.md explains each.
#
#   benchmarks/bench-accuracy/run.sh                       # 1,000 req/s for 30 s (the done-means)
#   RATE=200 DURATION=10s benchmarks/bench-accuracy/run.sh # a quick check
#
# Builds nothing: needs app/target/tokentap.jar (mvn -B -o -q package -DskipTests -pl app -am).
# Linux and Java 17. Nothing is pinned: the emulator and the bench share the machine's cores, so
# run it on a quiet machine. Never part of `mvn verify`.
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/lib/procstat.sh
JAR=app/target/tokentap.jar
RATE=${RATE:-1000}
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-$((2 * ${RATE%.*}))}  # requests; two seconds' worth
# Short responses: this measures the schedule, not streaming capacity (bench-scale does that).
WORKLOAD=${WORKLOAD:-synthetic:input=128,output=16}
SEED=${SEED:-0}
EMU_PORT=${EMU_PORT:-18100}
BENCH_JAVA_OPTS=${BENCH_JAVA_OPTS:-}  # more JVM options for the bench, e.g. -XX:StartFlightRecording=filename=bench.jfr
BENCH_HEAP=${BENCH_HEAP:-1g}
OUT=${OUT:-benchmarks/bench-accuracy/results}

[[ -f $JAR ]] || { echo "$JAR not found: mvn -B -o -q package -DskipTests -pl app -am" >&2; exit 1; }
WORK=$(mktemp -d /tmp/tokentap-bench-accuracy.XXXXXX)
mkdir -p "$OUT"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

java -Xmx1g -jar "$JAR" emulate --profile fast --listen "127.0.0.1:$EMU_PORT" >"$WORK/emulator.log" 2>&1 &
EMU_PID=$!; PIDS+=("$EMU_PID")
wait_port "$EMU_PORT"

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
java "-Xmx$BENCH_HEAP" $BENCH_JAVA_OPTS "-Xlog:gc:file=$WORK/bench-gc.log" -jar "$JAR" bench \
  --target "http://127.0.0.1:$EMU_PORT" --workload "$WORKLOAD" --load "poisson:$RATE" \
  --duration "$DURATION" --warmup "$WARMUP" --seed "$SEED" --out "$WORK/run" >"$WORK/bench.out" 2>&1 &
BENCH_PID=$!; PIDS+=("$BENCH_PID")
sample_cpu "$WORK/cpu.txt" "$BENCH_PID" "$EMU_PID" &
wait "$BENCH_PID" || { cat "$WORK/bench.out" >&2; echo "the bench failed (logs in $WORK)" >&2; exit 1; }
sleep 1.2  # the sampler's last line

R=$WORK/run/result.json
j() { jq -r "$1" "$R"; }
read -r PEAK LIVE GCS < <(gc_heap "$WORK/bench-gc.log")
BENCH_CPU=$(cpu_cores "$WORK/cpu.txt" 2)
EMU_CPU=$(cpu_cores "$WORK/cpu.txt" 3)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
TARGET=$(j .request_rate)
SCHEDULED=$(j .scheduled_request_rate)
ACHIEVED=$(j .achieved_request_rate)
THROUGHPUT=$(j .request_throughput)
COMMIT=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- bench proxy app || echo "+changes")

cp "$R" "$OUT/result.json"
{
  echo "Run on $(date -u +%Y-%m-%d) at $(date -u +%H:%M) UTC, commit \`$COMMIT\`, with \`benchmarks/bench-accuracy/run.sh\`:"
  echo "poisson:$RATE for $DURATION after $WARMUP warm-up requests, workload \`$WORKLOAD\`, seed $SEED, bench -Xmx$BENCH_HEAP."
  echo "Machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)); $(java -version 2>&1 | head -1). Load average at start: $LOAD_AT_START."
  echo
  echo "| quantity | value |"
  echo "|---|---|"
  echo "| measured requests (completed / failed) | $(j .num_prompts) ($(j .completed) / $(j .failed)) |"
  echo "| target rate (req/s) | $TARGET |"
  echo "| schedule's own rate, (n − 1) / intended span | $(printf %.2f "$SCHEDULED") ($(ratio "$SCHEDULED" "$TARGET") × target) |"
  echo "| achieved (sent) rate, (n − 1) / hand-off span | $(printf %.2f "$ACHIEVED") ($(ratio "$ACHIEVED" "$TARGET") × target, $(ratio "$ACHIEVED" "$SCHEDULED") × schedule) |"
  echo "| request_throughput, completed / (first start → last end) | $(printf %.2f "$THROUGHPUT") ($(ratio "$THROUGHPUT" "$TARGET") × target) |"
  echo "| schedule lag p50 / p99 / max (ms) | $(j '[.generator.schedule_lag_p50_ms, .generator.schedule_lag_p99_ms, .generator.schedule_lag_max_ms] | map(. * 1000 | round / 1000) | join(" / ")') |"
  echo "| requests over 50 ms late | $(j '.generator.late_over_50ms_fraction * 100 | . * 1000 | round / 1000')% |"
  echo "| JVM hiccups p50 / p99 / max (ms) | $(j '[.generator.hiccup_p50_ms, .generator.hiccup_p99_ms, .generator.hiccup_max_ms] | map(. * 1000 | round / 1000) | join(" / ")') |"
  echo "| bench GC (collections, pause ms) | $(j .generator.gc_count), $(j .generator.gc_pause_ms) |"
  echo "| generator bottleneck | $(j '.generator.bottleneck') $(j '.generator.warnings | join("; ")') |"
  echo "| TTFT p50 / p99 (ms) | $(j '[.p50_ttft_ms, .p99_ttft_ms] | map(. * 100 | round / 100) | join(" / ")') |"
  echo "| bench CPU, median of 1 s samples (cores) | $BENCH_CPU |"
  echo "| emulator CPU, same (cores) | $EMU_CPU |"
  echo "| bench heap: peak before GC / largest after GC (MiB), GCs | $PEAK / $LIVE, $GCS |"
  echo "| bench RSS max (MiB) | $(max_rss "$WORK/cpu.txt") |"
} | tee "$OUT/accuracy.md"
echo "wrote $OUT/accuracy.md and $OUT/result.json (logs in $WORK)" >&2
