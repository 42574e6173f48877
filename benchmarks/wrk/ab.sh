#!/usr/bin/env bash
# Two tokentap builds (or one build with two sets of JVM options) side by side under wrk: the same
# emulator, both proxies running at once, each load level run on A then B in odd rounds and B then A
# in even ones (the second of two back-to-back runs measured ~5 % better at 10 connections), and
# each proxy's CPU time per request read from /proc. For a change's before/after when the machine
# is not quiet enough for benchmarks/wrk/run.sh's absolute figures: the two builds share whatever
# else the machine is doing. Before the rounds, both run until their JIT has settled (as in run.sh).
#
#   benchmarks/wrk/ab.sh before.jar after.jar
#   A_OPTS=-Dio.netty.allocator.type=pooled benchmarks/wrk/ab.sh app/target/tokentap.jar app/target/tokentap.jar
#   CONNS=10 ROUNDS=5 DURATION=8 benchmarks/wrk/ab.sh before.jar after.jar
#
# Tokentap runs with default settings (usage injected, access log to a file), as in run.sh.
# Needs Linux, Java 17 and wrk. Never part of `mvn verify`.
set -euo pipefail
JAR_A=${1:?usage: ab.sh JAR_A JAR_B}; JAR_B=${2:?usage: ab.sh JAR_A JAR_B}
CONNS=${CONNS:-1,10,100}; ROUNDS=${ROUNDS:-3}; DURATION=${DURATION:-8}
A_OPTS=${A_OPTS:-}; B_OPTS=${B_OPTS:-}
EMU_PORT=18300 A_PORT=18381 B_PORT=18382
cd "$(dirname "$0")/../.."
source benchmarks/lib/procstat.sh
WORK=$(mktemp -d /tmp/tokentap-wrk-ab.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT

echo 'tokentap.emulator { profile = fast, engine { max-num-seqs = 2000, max-batched-tokens = 40000 } }' >"$WORK/emulator.conf"
cat >"$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"m","stream":true,"max_tokens":64,"ignore_eos":true,"messages":[{"role":"user","content":"Tell me about proxies."}]}'
LUA
java -Xmx1g -jar "$JAR_A" emulate --listen 127.0.0.1:$EMU_PORT --config "$WORK/emulator.conf" >"$WORK/emulator.log" 2>&1 &
EMU_PID=$!; PIDS+=($EMU_PID)
start_proxy() { # side jar opts port admin
  echo "tokentap { access-log.destination = \"$WORK/access-$1.log\" }" >"$WORK/$1.conf"
  # shellcheck disable=SC2086
  java -Xmx512m $3 -jar "$2" proxy --listen 127.0.0.1:$4 --admin 127.0.0.1:$5 \
    --upstream http://127.0.0.1:$EMU_PORT --config "$WORK/$1.conf" >"$WORK/$1.log" 2>&1 &
  PIDS+=($!)
}
start_proxy a "$JAR_A" "$A_OPTS" $A_PORT 19781; A_PID=${PIDS[-1]}
start_proxy b "$JAR_B" "$B_OPTS" $B_PORT 19782; B_PID=${PIDS[-1]}
for port in $EMU_PORT $A_PORT $B_PORT; do
  for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.2; done
done
run() { wrk -t1 -c"$1" -d"$2"s --timeout 30s -s "$WORK/post.lua" "http://127.0.0.1:$3/v1/chat/completions"; }
for port in $A_PORT $B_PORT; do run 10 5 $port >/dev/null; done  # connections
for port in $A_PORT $B_PORT; do
  pid=$([[ $port == "$A_PORT" ]] && echo $A_PID || echo $B_PID)
  echo "JIT of $port settled after $(settle_jit 120 "$pid" "$EMU_PID" -- run 10 5 "$port") s more" >&2
done

for round in $(seq "$ROUNDS"); do
  for c in ${CONNS//,/ }; do
    for side in $( ((round % 2)) && echo a b || echo b a); do
      pid=$([[ $side == a ]] && echo $A_PID || echo $B_PID); port=$([[ $side == a ]] && echo $A_PORT || echo $B_PORT)
      t0=$(cpu_ticks "$pid"); requests=$(run "$c" "$DURATION" "$port" | awk '/requests in/ {print $1}'); t1=$(cpu_ticks "$pid")
      echo "$round $c $side $requests $((t1 - t0))" | tee -a "$WORK/raw.txt" >&2
    done
  done
done
echo "A: $JAR_A $A_OPTS"; echo "B: $JAR_B $B_OPTS"; echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| connections | side | requests/s | CPU-ms per request |"
echo "|---:|---|---:|---:|"
awk -v hz="$CLK_TCK" -v d="$DURATION" '{ k = $2 " " $3; req[k] += $4; cpu[k] += $5; n[k]++ }
  END { for (k in req) { split(k, p, " "); printf "| %s | %s | %.1f | %.4f |\n", p[1], p[2], req[k] / (n[k] * d), cpu[k] / hz * 1000 / req[k] } }' \
  "$WORK/raw.txt" | sort -t'|' -k2,2n -k3,3
