#!/usr/bin/env bash
# End-to-end comparison: the same streaming chat workload direct to the emulator, through tokentap
# and through nginx, interleaved, at 1, 10, 1,000 and 10,000 streams (fewer where the open-files
# limit cannot hold 2 sockets per stream in the proxy: see HIGH below). Writes e2e.md and e2e.json
# to $OUT (default benchmarks/e2e/results). About 11 minutes on a busy 2-core machine, most of it
# starting the top load; LOADS=1,10,1000 takes about 5. Results: docs/performance.md.
#
#   benchmarks/e2e/run.sh              # build the jars if missing, then run
#   LOADS=1,10 benchmarks/e2e/run.sh   # a quick subset
#   TT_TRANSPORT=io_uring benchmarks/e2e/run.sh   # tokentap on io_uring (tokentap.proxy.transport)
#
# Needs Linux, Java 17 and nginx (apt-get install -y nginx-light); a hard `ulimit -n` above 20,200
# for the full 10,000 streams. Nothing is pinned: the emulator, tokentap, nginx and the load client share the
# machine's cores as they would on one host. Never part of `mvn verify`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${OUT:-$ROOT/benchmarks/e2e/results}
MAX_TOKENS=${MAX_TOKENS:-64}
MAX_TOKENS_TOP=${MAX_TOKENS_TOP:-512}
EMU_PORT=18000 TT_PORT=18080 TT_ADMIN=19464 NGINX_PORT=18081

if [[ ! -f app/target/tokentap.jar || ! -f benchmarks/target/benchmarks.jar ]]; then
  mvn -B -o -q package -DskipTests -pl app,benchmarks -am
fi
command -v nginx >/dev/null || { echo "nginx not found: apt-get install -y nginx-light" >&2; exit 1; }
ulimit -n 100000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# A proxy holds two sockets per stream (client and upstream, HTTP/1.1) plus ~100 of its own: the
# top load is 10,000 streams where the limit allows, else as many as fit.
NOFILE=$(ulimit -n)
HIGH=$(( (NOFILE - 200) / 2 < 10000 ? (NOFILE - 200) / 2 / 100 * 100 : 10000 ))
LOADS=${LOADS:-1,10,1000,$HIGH}
echo "open files limit $NOFILE: loads $LOADS" >&2

WORK=$(mktemp -d /tmp/tokentap-e2e.XXXXXX)
mkdir -p "$OUT" "$WORK/nginx/logs"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# Emulator: the fast profile (engine times / 100). Only its capacities are raised, so 10,000
# streams decode at once instead of queueing behind max-num-seqs = 256 and the KV-cache budget.
cat > "$WORK/emulator.conf" <<CONF
tokentap.emulator {
  profile = fast
  engine { max-num-seqs = 20000, max-batched-tokens = 40000, kv-cache-tokens = 100000000 }
}
CONF
# Tokentap: metering on (always), shadow off (no targets), access log off like nginx's, and
# nginx's default upstream connect timeout (60s) instead of 5s, since 10,000 streams start at once.
# Its default upstream pool (10,000 connections per event loop) holds one connection per stream;
# runs before 2026-12-04's evening set 8,192 per loop here, when the default was 512.
cat > "$WORK/tokentap.conf" <<CONF
tokentap {
  proxy.transport = ${TT_TRANSPORT:-auto}
  upstream.connect-timeout = 60s
  access-log.enabled = false
}
CONF
# nginx: two workers (one per core, like tokentap's two event loops), no buffering, HTTP/1.1
# keep-alive to the upstream, no access log.
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 30000; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  upstream emulator {
    server 127.0.0.1:$EMU_PORT;
    keepalive 16384;
    keepalive_requests 1000000;
    # Idle upstream connections close like tokentap's pooled ones (4s), so they do not pile up
    # in the emulator's open-files budget between phases.
    keepalive_timeout 4s;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    keepalive_requests 1000000;
    location / {
      proxy_pass http://emulator;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 300s;
    }
  }
}
CONF

java -Xmx2g -jar app/target/tokentap.jar emulate --listen 127.0.0.1:$EMU_PORT --config "$WORK/emulator.conf" \
  >"$WORK/emulator.log" 2>&1 &
EMU_PID=$!; PIDS+=("$EMU_PID")
java -Xmx512m -jar app/target/tokentap.jar proxy --listen 127.0.0.1:$TT_PORT --admin 127.0.0.1:$TT_ADMIN \
  --upstream http://127.0.0.1:$EMU_PORT --config "$WORK/tokentap.conf" >"$WORK/tokentap.log" 2>&1 &
TT_PID=$!; PIDS+=("$TT_PID")
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off; user root;' >"$WORK/nginx.log" 2>&1 &
NGINX_PID=$!; PIDS+=("$NGINX_PID")

for port in $EMU_PORT $TT_PORT $NGINX_PORT; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.2; done
done

COMMIT=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- proxy app emulator benchmarks || echo "+changes")
CPU=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
cat > "$WORK/header.md" <<HDR
Run on $(date -u +%Y-%m-%d) at $(date -u +%H:%M) UTC, commit \`$COMMIT\`, tokentap transport ${TT_TRANSPORT:-auto}, with \`benchmarks/e2e/run.sh\`
(loads $LOADS, max_tokens $MAX_TOKENS and $MAX_TOKENS_TOP at the top load, ignore_eos, open-files limit $NOFILE). Machine: $(nproc) cores ($CPU), $(free -g | awk '/Mem:/{print $2}') GiB,
$(uname -sr); $(java -version 2>&1 | head -1); $(nginx -v 2>&1). Load average at start: $(cut -d' ' -f1-3 /proc/loadavg).
HDR

java -Xmx1g -cp benchmarks/target/benchmarks.jar dev.tokentap.benchmarks.e2e.EndToEndBenchmark \
  --direct=127.0.0.1:$EMU_PORT --tokentap=127.0.0.1:$TT_PORT --nginx=127.0.0.1:$NGINX_PORT \
  --emulator-pid=$EMU_PID --tokentap-pid=$TT_PID --nginx-pid=$NGINX_PID \
  --loads="$LOADS" --max-tokens="$MAX_TOKENS" --max-tokens-top="$MAX_TOKENS_TOP" --header="$WORK/header.md" --out="$OUT"
echo "wrote $OUT/e2e.md and $OUT/e2e.json (server logs in $WORK)" >&2
