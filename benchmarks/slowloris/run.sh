#!/usr/bin/env bash
# Slowloris (issue 14, item 1): with N connections that each send a request head one byte a second
# and never finish it, normal requests keep their latency and the attack connections are closed by
# the head timeout (tokentap.proxy.request-head-timeout), never counted as requests. Starts the
# emulator (`emulate --profile fast`) and Tokentap in front of it; phase A runs M streaming chat
# requests (CONC at a time) for a baseline of client-side TTFT and E2E; phase B opens the N attack
# connections, runs the same M requests while they are open, and waits until the server has closed
# every attack connection (or head timeout + 15 s). Reports both phases' p50/p99, the attack
# connections' lifetimes and answers, the proxy's open descriptors during and after the attack, and
# from /metrics the head_timeout closes and tokentap_requests_total (which must be the normal
# requests only). Prints and writes $OUT/slowloris.md; numbers in docs/reliability.md. Exits
# non-zero if an attack connection outlived the timeout or was counted as a request.
#
#   benchmarks/slowloris/run.sh                    # 200 attack connections, the default head timeout (30 s)
#   HEAD_TIMEOUT=5s benchmarks/slowloris/run.sh    # a quick check
#   N=1000 M=500 CONC=8 benchmarks/slowloris/run.sh
#   JAR=/tmp/old/tokentap.jar benchmarks/slowloris/run.sh   # another build, to compare
#
# Needs Linux, Java 17, curl; app/target/tokentap.jar is built if missing. The clients are
# benchmarks/slowloris/Slowloris.java, run as a single-file program. Nothing is pinned. Never part
# of `mvn verify`.
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=${JAR:-app/target/tokentap.jar}
N=${N:-200}               # attack connections
M=${M:-200}               # normal requests per phase
CONC=${CONC:-4}           # normal requests at a time
WARM=${WARM:-100}         # warm-up requests before phase A (counted in requests_total, not measured)
HEAD_TIMEOUT=${HEAD_TIMEOUT:-}   # empty: the default (reference.conf, 30s); else e.g. 5s
UP_PORT=${UP_PORT:-18400} TT_PORT=${TT_PORT:-18480} TT_ADMIN=${TT_ADMIN:-18481}
OUT=${OUT:-benchmarks/slowloris/results}
HERE=benchmarks/slowloris

if [[ ! -f $JAR ]]; then
  mvn -B -o -q package -DskipTests -pl app -am
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( 2 * N + 300 <= $(ulimit -n) )) || { echo "N=$N needs $((2 * N + 300)) open files; ulimit -n is $(ulimit -n)" >&2; exit 1; }
if [[ -z $HEAD_TIMEOUT ]]; then HEAD_S=30; else
  case $HEAD_TIMEOUT in
    *ms) HEAD_S=$(( ${HEAD_TIMEOUT%ms} / 1000 )) ;;
    *s) HEAD_S=${HEAD_TIMEOUT%s} ;;
    *) echo "HEAD_TIMEOUT: give it in s or ms (5s, 1500ms)" >&2; exit 1 ;;
  esac
fi
WORK=$(mktemp -d /tmp/tokentap-slowloris.XXXXXX)
mkdir -p "$OUT"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_port() { for _ in $(seq 150); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.2; done; echo "port $1 never opened" >&2; exit 1; }
fds() { ls "/proc/$1/fd" | wc -l; }
metric_sum() { curl -s "http://127.0.0.1:$TT_ADMIN/metrics" | awk -v re="$1" '$0 ~ re { s += $NF } END { printf "%d", s }'; }
# key=value from a summary line
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

java -Xmx256m -jar "$JAR" emulate --listen "127.0.0.1:$UP_PORT" --profile fast >"$WORK/emulator.log" 2>&1 &
PIDS+=("$!")
{
  echo 'tokentap.access-log.enabled = false'
  [[ -z $HEAD_TIMEOUT ]] || echo "tokentap.proxy.request-head-timeout = $HEAD_TIMEOUT"
} >"$WORK/tokentap.conf"
java -Xmx512m -jar "$JAR" proxy --listen "127.0.0.1:$TT_PORT" --admin "127.0.0.1:$TT_ADMIN" \
  --upstream "http://127.0.0.1:$UP_PORT" --config "$WORK/tokentap.conf" >"$WORK/tokentap.log" 2>&1 &
TT_PID=$!; PIDS+=("$TT_PID")
wait_port "$UP_PORT"; wait_port "$TT_PORT"; wait_port "$TT_ADMIN"

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
java "$HERE/Slowloris.java" normal "127.0.0.1:$TT_PORT" "$WARM" "$CONC" >"$WORK/warm.log" 2>&1
FDS_BEFORE=$(fds "$TT_PID")

# Phase A: baseline.
java "$HERE/Slowloris.java" normal "127.0.0.1:$TT_PORT" "$M" "$CONC" >"$WORK/baseline.log" 2>&1
BASE=$(tail -1 "$WORK/baseline.log")

# Phase B: the attack connections open, then the same requests while they stay open.
java "$HERE/Slowloris.java" attack "127.0.0.1:$TT_PORT" "$N" "$(( HEAD_S + 15 ))" >"$WORK/attack.log" 2>&1 &
ATTACK_PID=$!; PIDS+=("$ATTACK_PID")
for _ in $(seq 300); do grep -q '^opened' "$WORK/attack.log" && break; sleep 0.1; done
grep -q '^opened' "$WORK/attack.log" || { echo "the attack never opened its connections" >&2; cat "$WORK/attack.log" >&2; exit 1; }
ATTACK_T0=$(date +%s.%N)
java "$HERE/Slowloris.java" normal "127.0.0.1:$TT_PORT" "$M" "$CONC" >"$WORK/attack-normal.log" 2>&1
ATK=$(tail -1 "$WORK/attack-normal.log")
PHASE_B_S=$(awk -v a="$ATTACK_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
FDS_DURING=$(fds "$TT_PID")
LOAD_ATTACK=$(cut -d' ' -f1-3 /proc/loadavg)
wait "$ATTACK_PID" || true
sleep 1
FDS_AFTER=$(fds "$TT_PID")
SUMMARY=$(tail -1 "$WORK/attack.log")
HEAD_CLOSES=$(metric_sum '^tokentap_client_connections_closed_total\\{.*reason="head_timeout"')
ALL_CLOSES=$(curl -s "http://127.0.0.1:$TT_ADMIN/metrics" \
  | awk -F'"' '/^tokentap_client_connections_closed_total\{/ { split($NF, v, " "); printf "%s%s %d", (n++ ? ", " : ""), $2, v[2] }')
REQUESTS=$(metric_sum '^tokentap_requests_total\\{')
EXPECTED=$(( WARM + 2 * M ))

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.2f", b / a; else printf "n/a" }'; }
OPENED=$(field "$SUMMARY" connections); CLOSED=$(field "$SUMMARY" closed_by_server)
LMIN=$(field "$SUMMARY" lifetime_min); LP50=$(field "$SUMMARY" lifetime_p50); LMAX=$(field "$SUMMARY" lifetime_max)
ANSWERS=$(grep '^conn ' "$WORK/attack.log" | sed 's/.*answer=//' | sort | uniq -c | awk '{ printf "%s%s × %s", (NR > 1 ? ", " : ""), $1, $2 }' | tr '_' ' ')

FAIL=()
[[ $OPENED == "$N" ]] || FAIL+=("opened $OPENED of $N attack connections")
[[ $CLOSED == "$OPENED" ]] || FAIL+=("$CLOSED of $OPENED attack connections closed by the server")
awk -v lo="$LMIN" -v hi="$LMAX" -v t="$HEAD_S" 'BEGIN { exit !(lo >= t - 1 && hi <= t + 5) }' \
  || FAIL+=("attack lifetimes $LMIN–$LMAX s, not the head timeout ($HEAD_S s)")
(( HEAD_CLOSES >= OPENED )) || FAIL+=("head_timeout closes $HEAD_CLOSES < $OPENED")
(( REQUESTS == EXPECTED )) || FAIL+=("requests_total $REQUESTS, expected $EXPECTED (warm-up + 2 × M): attack connections counted?")
[[ $(field "$BASE" failures) == 0 && $(field "$ATK" failures) == 0 ]] || FAIL+=("normal requests failed: baseline $(field "$BASE" failures), attack $(field "$ATK" failures)")

COMMIT=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- proxy app || echo "+changes")
{
  echo "Run on $(date -u +%Y-%m-%d) at $(date -u +%H:%M) UTC, commit \`$COMMIT\`, jar \`$JAR\`, with \`benchmarks/slowloris/run.sh\`:"
  echo "$N attack connections sending a request head at 1 byte/s; $M streaming chat requests (max_tokens 32, $CONC at a time, a connection each) per phase after $WARM warm-up; emulator \`--profile fast\`; head timeout ${HEAD_TIMEOUT:-30s (default)}."
  echo "Machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)); $(java -version 2>&1 | head -1). Load average at start: $LOAD_START; during the attack: $LOAD_ATTACK."
  echo
  echo "| phase | TTFT p50 (ms) | TTFT p99 (ms) | E2E p50 (ms) | E2E p99 (ms) | failures |"
  echo "|---|---|---|---|---|---|"
  echo "| baseline | $(field "$BASE" ttft_p50) | $(field "$BASE" ttft_p99) | $(field "$BASE" e2e_p50) | $(field "$BASE" e2e_p99) | $(field "$BASE" failures) |"
  echo "| $N attack connections open | $(field "$ATK" ttft_p50) | $(field "$ATK" ttft_p99) | $(field "$ATK" e2e_p50) | $(field "$ATK" e2e_p99) | $(field "$ATK" failures) |"
  echo "| ratio | $(ratio "$(field "$BASE" ttft_p50)" "$(field "$ATK" ttft_p50)") | $(ratio "$(field "$BASE" ttft_p99)" "$(field "$ATK" ttft_p99)") | $(ratio "$(field "$BASE" e2e_p50)" "$(field "$ATK" e2e_p50)") | $(ratio "$(field "$BASE" e2e_p99)" "$(field "$ATK" e2e_p99)") | |"
  echo
  echo "| attack connections | closed by the server | lifetime min / p50 / max (s) | answered | proxy fds before / during / after | head_timeout closes | closes by reason | requests_total (expected) |"
  echo "|---|---|---|---|---|---|---|---|"
  echo "| $OPENED | $CLOSED | $LMIN / $LP50 / $LMAX | $ANSWERS | $FDS_BEFORE / $FDS_DURING / $FDS_AFTER | $HEAD_CLOSES | $ALL_CLOSES | $REQUESTS ($EXPECTED) |"
  echo
  echo "The normal requests under attack took $PHASE_B_S s after the attack connections opened."
  if (( ${#FAIL[@]} )); then printf 'FAILED: %s\n' "${FAIL[@]}"; else echo "Checks passed."; fi
} | tee "$OUT/slowloris.md"
echo "wrote $OUT/slowloris.md (logs in $WORK)" >&2
(( ${#FAIL[@]} == 0 ))
