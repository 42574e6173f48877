#!/usr/bin/env bash
# Side by side with a standard HTTP load tool: wrk posts a streaming chat request and reads the
# whole SSE stream as one response, direct to the emulator, through tokentap and through nginx,
# interleaved (every round runs each path at each load), at 1, 10 and 100 connections. Tokentap
# runs with its default settings: metering, usage injection (the request does not ask for usage,
# as the OpenAI SDKs do not by default, so tokentap injects it and filters the usage event out) and
# the access log on (to a file). Writes wrk.md to $OUT (default benchmarks/wrk/results).
# About 5 minutes with the defaults (the JIT settle adds 20-60 s). Results: docs/performance.md, "Side by side with wrk".
#
#   benchmarks/wrk/run.sh                          # build the jar if missing, then run
#   CONNS=1,10 ROUNDS=1 DURATION=5 benchmarks/wrk/run.sh
#   TT_TRANSPORT=io_uring benchmarks/wrk/run.sh    # tokentap on io_uring
#   WITH_USAGE=1 benchmarks/wrk/run.sh             # the client asks for usage: nothing injected
#
# Needs Linux, Java 17, wrk and nginx (apt-get install -y wrk nginx-light). Never part of `mvn verify`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${OUT:-$ROOT/benchmarks/wrk/results}
CONNS=${CONNS:-1,10,100}
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10}
MAX_TOKENS=${MAX_TOKENS:-64}
EMU_PORT=18100 TT_PORT=18180 TT_ADMIN=19564 NGINX_PORT=18181
source benchmarks/lib/procstat.sh

if [[ ! -f app/target/tokentap.jar ]]; then
  mvn -B -o -q package -DskipTests -pl app -am
fi
for tool in wrk nginx; do
  command -v $tool >/dev/null || { echo "$tool not found: apt-get install -y wrk nginx-light" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/tokentap-wrk.XXXXXX)
mkdir -p "$OUT" "$WORK/nginx/logs"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

OPTIONS=''
[[ -n ${WITH_USAGE:-} ]] && OPTIONS=',"stream_options":{"include_usage":true}'
cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"m","stream":true,"max_tokens":$MAX_TOKENS,"ignore_eos":true$OPTIONS,"messages":[{"role":"user","content":"Tell me about proxies."}]}'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %.3f %d %d %d %d\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99), summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, latency.max))
end
LUA
cat > "$WORK/emulator.conf" <<CONF
tokentap.emulator { profile = fast, engine { max-num-seqs = 2000, max-batched-tokens = 40000 } }
CONF
# Defaults, except where the access log goes (a file, as an operator would ship it).
cat > "$WORK/tokentap.conf" <<CONF
tokentap {
  proxy.transport = ${TT_TRANSPORT:-auto}
  access-log.destination = "$WORK/access.log"
}
CONF
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  upstream emulator { server 127.0.0.1:$EMU_PORT; keepalive 1024; keepalive_timeout 4s; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    keepalive_requests 1000000;
    location / {
      proxy_pass http://emulator;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
CONF

java -Xmx1g -jar app/target/tokentap.jar emulate --listen 127.0.0.1:$EMU_PORT --config "$WORK/emulator.conf" >"$WORK/emulator.log" 2>&1 &
EMU_PID=$!; PIDS+=("$EMU_PID")
java -Xmx512m -jar app/target/tokentap.jar proxy --listen 127.0.0.1:$TT_PORT --admin 127.0.0.1:$TT_ADMIN \
  --upstream http://127.0.0.1:$EMU_PORT --config "$WORK/tokentap.conf" >"$WORK/tokentap.log" 2>&1 &
TT_PID=$!; PIDS+=("$TT_PID")
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off; user root;' >"$WORK/nginx.log" 2>&1 &
NGINX_PID=$!; PIDS+=("$NGINX_PID")
for port in $EMU_PORT $TT_PORT $NGINX_PORT; do
  for _ in $(seq 150); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.2; done
done

# The CPU of nginx is its workers' (the master only forks them).
nginx_ticks() { local t=0; for p in $(pgrep -P "$NGINX_PID"); do t=$((t + $(cpu_ticks "$p"))); done; echo $t; }
proxy_ticks() { case $1 in tokentap) cpu_ticks "$TT_PID" ;; nginx) nginx_ticks ;; *) echo 0 ;; esac; }
port_of() { case $1 in direct) echo $EMU_PORT ;; tokentap) echo $TT_PORT ;; nginx) echo $NGINX_PORT ;; esac; }

# Each path once at every load before measuring: connections, JIT, nginx's upstream keep-alive.
for path in direct tokentap nginx; do
  wrk -t1 -c10 -d3s -s "$WORK/post.lua" "http://127.0.0.1:$(port_of $path)/v1/chat/completions" >/dev/null
done
# Then tokentap until its JIT (and the emulator's, which every path shares) has settled.
JIT_SETTLE=$(settle_jit 120 "$TT_PID" "$EMU_PID" -- wrk -t1 -c10 -d5s -s "$WORK/post.lua" "http://127.0.0.1:$TT_PORT/v1/chat/completions")
echo "JIT settled after $JIT_SETTLE s more on tokentap" >&2

RAW="$WORK/raw.txt"
: >"$RAW"
for round in $(seq "$ROUNDS"); do
  for c in ${CONNS//,/ }; do
    for path in direct tokentap nginx; do
      t0=$(proxy_ticks $path); j0=$(jit_ticks "$TT_PID")
      line=$(wrk -t1 -c"$c" -d"${DURATION}s" --timeout 30s -s "$WORK/post.lua" "http://127.0.0.1:$(port_of $path)/v1/chat/completions" | grep '^RESULT')
      t1=$(proxy_ticks $path); j1=$(jit_ticks "$TT_PID")
      echo "$round $c $path $line $((t1 - t0)) $([[ $path == tokentap ]] && echo $((j1 - j0)) || echo 0)" | tee -a "$RAW" >&2
    done
  done
done

COMMIT=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- proxy app emulator || echo "+changes")
{
  echo "Run on $(date -u +%Y-%m-%d) at $(date -u +%H:%M) UTC, commit \`$COMMIT\`, tokentap transport ${TT_TRANSPORT:-auto}, with \`benchmarks/wrk/run.sh\`"
  echo "($ROUNDS rounds of ${DURATION}s per path and load, max_tokens $MAX_TOKENS, ${WITH_USAGE:+client asks for usage}${WITH_USAGE:-usage injected by tokentap}). Machine: $(nproc) cores, $(uname -sr); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); $(nginx -v 2>&1)."
  echo "Before the windows, tokentap ran 10 connections $JIT_SETTLE s more, until its JIT compiler threads and the emulator's used at most 2 % of a core over 5 s; JIT is the compiler threads' share of tokentap's CPU in the windows."
  echo
  echo "| connections | path | requests/s | vs nginx | latency p50 (ms) | p99 (ms) | errors | proxy CPU-ms per request | vs nginx | JIT |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  # Per (load, path): requests and CPU summed over rounds; latency percentiles averaged over rounds.
  awk -v hz="$CLK_TCK" '
    { k = $2 " " $3; req[k] += $5; dur[k] += $6; p50[k] += $7; p99[k] += $8; err[k] += $9; cpu[k] += $11; jit[k] += $12; n[k]++
      if (!(($2) in seen)) { seen[$2] = 1; loads[++nl] = $2 } }
    END {
      split("direct tokentap nginx", paths, " ")
      for (i = 1; i <= nl; i++) {
        c = loads[i]; ng = c " nginx"
        for (j = 1; j <= 3; j++) {
          k = c " " paths[j]; rps = req[k] / dur[k]; nrps = req[ng] / dur[ng]
          cpr = req[k] > 0 ? cpu[k] / hz * 1000 / req[k] : 0; ncpr = cpu[ng] / hz * 1000 / req[ng]
          printf "| %s | %s | %.1f | %.2f | %.2f | %.2f | %d | %s | %s | %s |\n", c, paths[j], rps, rps / nrps,
            p50[k] / n[k] / 1000, p99[k] / n[k] / 1000, err[k],
            paths[j] == "direct" ? "-" : sprintf("%.3f", cpr), paths[j] == "direct" ? "-" : sprintf("%.2f", cpr / ncpr),
            (paths[j] == "tokentap" && cpu[k] > 0) ? sprintf("%.1f %%", 100 * jit[k] / cpu[k]) : "-"
        }
      }
    }' "$RAW"
} >"$OUT/wrk.md"
cp "$RAW" "$OUT/raw.txt"
cat "$OUT/wrk.md"
echo "wrote $OUT/wrk.md (logs in $WORK)" >&2
