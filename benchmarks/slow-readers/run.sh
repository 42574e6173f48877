#!/usr/bin/env bash
# Memory per slow reader (issue 14, item 4): N clients each ask for a large non-streaming chat
# completion (SIZE_MIB of JSON, Content-Length framed, usage at the end) and read it at 1 byte a
# second. Tokentap stops reading from the upstream at the write-buffer mark; what it holds per client
# beyond that is the meter's outline of the body (proxy/.../meter/JsonSkeleton.java), not the body.
# Reports the proxy's live heap (after a full GC, jcmd GC.heap_info) before and while the clients
# read, its RSS, and then fetches one whole answer at full speed to show its usage is still counted.
# Prints and writes $OUT/slow-readers.md; numbers in docs/reliability.md.
#
#   benchmarks/slow-readers/run.sh               # 1,000 clients, 16 MiB answers, 30 s
#   N=200 HOLD=20 benchmarks/slow-readers/run.sh # a quick check
#   JAR=/tmp/old/tokentap.jar benchmarks/slow-readers/run.sh   # another build, to compare
#
# Needs Linux, Java 17 (java, jcmd), curl; app/target/tokentap.jar is built if missing. The server
# and the clients are benchmarks/slow-readers/SlowReaders.java, run as a single-file program. Nothing
# is pinned. Never part of `mvn verify`.
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=${JAR:-app/target/tokentap.jar}
N=${N:-1000}
SIZE_MIB=${SIZE_MIB:-16}
HOLD=${HOLD:-30}          # seconds the clients read 1 byte a second
TT_HEAP=${TT_HEAP:-1g}    # the proxy's -Xmx: room for the old behaviour to show, not a target
UP_PORT=${UP_PORT:-18300} TT_PORT=${TT_PORT:-18380} TT_ADMIN=${TT_ADMIN:-18381}
OUT=${OUT:-benchmarks/slow-readers/results}
HERE=benchmarks/slow-readers

if [[ ! -f $JAR ]]; then
  mvn -B -o -q package -DskipTests -pl app -am
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( 2 * N + 300 <= $(ulimit -n) )) || { echo "N=$N needs $((2 * N + 300)) open files; ulimit -n is $(ulimit -n)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/tokentap-slow-readers.XXXXXX)
mkdir -p "$OUT"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_port() { for _ in $(seq 150); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.2; done; echo "port $1 never opened" >&2; exit 1; }
# live_heap PID: MiB in use right after a full collection (G1: "garbage-first heap total NK, used NK").
live_heap() {
  jcmd "$1" GC.run >/dev/null
  jcmd "$1" GC.heap_info | awk '/heap.*used/ { for (i = 1; i <= NF; i++) if ($i == "used") { v = $(i + 1); sub(/K,?/, "", v); printf "%.1f", v / 1024; exit } }'
}
rss_mib() { awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

java -Xmx256m -XX:+UseSerialGC "$HERE/SlowReaders.java" server "$UP_PORT" "$SIZE_MIB" >"$WORK/server.log" 2>&1 &
PIDS+=("$!")
cat >"$WORK/tokentap.conf" <<CONF
tokentap {
  upstream { max-connections-per-loop = 8192, max-pending-acquires-per-loop = 16384 }
  access-log.enabled = false
}
CONF
java "-Xmx$TT_HEAP" -jar "$JAR" proxy --listen "127.0.0.1:$TT_PORT" --admin "127.0.0.1:$TT_ADMIN" \
  --upstream "http://127.0.0.1:$UP_PORT" --config "$WORK/tokentap.conf" >"$WORK/tokentap.log" 2>&1 &
TT_PID=$!; PIDS+=("$TT_PID")
wait_port "$UP_PORT"; wait_port "$TT_PORT"

# Warm up: one whole answer through the proxy, so the baseline has its classes and pools.
curl -sS -o /dev/null -X POST -H 'content-type: application/json' -d '{"model":"m","messages":[]}' "http://127.0.0.1:$TT_PORT/v1/chat/completions"
BASE=$(live_heap "$TT_PID")

java -Xmx512m "$HERE/SlowReaders.java" clients "127.0.0.1:$TT_PORT" "$N" "$HOLD" >"$WORK/clients.log" 2>&1 &
CLIENTS_PID=$!; PIDS+=("$CLIENTS_PID")
in_flight() { curl -s "http://127.0.0.1:$TT_ADMIN/metrics" | awk '/^tokentap_requests_in_flight/ { s += $NF } END { print s + 0 }'; }
# Measured once every client's request is in flight (the clients' JVM takes a few seconds to start,
# and their hold starts once all are connected), or after half the hold plus 20 s, whichever is first.
for _ in $(seq $(( HOLD / 2 + 20 ))); do
  kill -0 "$CLIENTS_PID" 2>/dev/null || break
  sleep 1
  echo "$(date +%s) in flight $(in_flight)" >>"$WORK/in-flight.log"
  (( $(in_flight) < N )) || break
done
HEAP=0
for _ in 1 2 3; do   # the largest of three readings a second apart
  H=$(live_heap "$TT_PID")
  HEAP=$(awk -v a="$HEAP" -v b="$H" 'BEGIN { print (b > a ? b : a) }')
  sleep 1
done
RSS=$(rss_mib "$TT_PID")
INFLIGHT=$(in_flight)
wait "$CLIENTS_PID" || true
curl -s "http://127.0.0.1:$TT_ADMIN/metrics" | grep -E '^tokentap_(requests_total|requests_in_flight)' >"$WORK/requests.txt" || true
SUMMARY=$(tail -1 "$WORK/clients.log")

# One whole answer at full speed: the client gets every byte and its usage reaches /metrics.
output_tokens() {
  curl -s "http://127.0.0.1:$TT_ADMIN/metrics" | awk '/^tokentap_tokens_total\{/ && /type="output"/ && /route="chat"/ { s += $NF } END { printf "%d", s }'
}
BEFORE=$(output_tokens)
BYTES=$(curl -sS -o "$WORK/answer.json" -w '%{size_download}' -X POST -H 'content-type: application/json' \
  -d '{"model":"m","messages":[]}' "http://127.0.0.1:$TT_PORT/v1/chat/completions")
sleep 0.5
OUTPUT=$(( $(output_tokens) - BEFORE ))

COMMIT=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- proxy app || echo "+changes")
{
  echo "Run on $(date -u +%Y-%m-%d) at $(date -u +%H:%M) UTC, commit \`$COMMIT\`, jar \`$JAR\`, with \`benchmarks/slow-readers/run.sh\`:"
  echo "$N clients reading 1 byte/s from ${SIZE_MIB} MiB non-streaming chat completions for ${HOLD} s; proxy -Xmx$TT_HEAP, water marks 32/64 KiB."
  echo "Machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)); $(java -version 2>&1 | head -1). Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| clients | in flight | live heap before (MiB) | live heap with the clients (MiB) | per client (KiB) | proxy RSS (MiB) | clients' summary | full-speed answer: bytes / output tokens counted |"
  echo "|---|---|---|---|---|---|---|---|"
  echo "| $N | $INFLIGHT | $BASE | $HEAP | $(awk -v h="$HEAP" -v b="$BASE" -v n="$N" 'BEGIN { printf "%.1f", (h - b) * 1024 / n }') | $RSS | $SUMMARY | $BYTES / $OUTPUT |"
} | tee "$OUT/slow-readers.md"
echo "wrote $OUT/slow-readers.md (logs in $WORK)" >&2
