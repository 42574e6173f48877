# Helpers for the bench benchmarks (sourced, not run): CPU and memory of other processes from
# /proc, and the heap from a JVM's GC log (-Xlog:gc:file=...), so nothing is added to the process
# being measured. Linux only.

CLK_TCK=$(getconf CLK_TCK)

# Total CPU ticks (user + system) of PID; empty once it is gone. Fields 14 and 15 of
# /proc/PID/stat (proc(5)); the command name (field 2) of a java process has no spaces.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || true; }

# CPU ticks the JIT compiler threads of JVM PID ("C1 CompilerThre…", "C2 CompilerThre…") have used;
# 0 for other processes. The thread names hold a space, so fields are counted after the ")".
jit_ticks() {
  local t=0 f
  for f in /proc/"$1"/task/*/stat; do
    case $(cat "${f%stat}comm" 2>/dev/null) in "C1 CompilerThre"* | "C2 CompilerThre"*) ;; *) continue ;; esac
    t=$((t + $(sed 's/.*) //' "$f" 2>/dev/null | awk '{print $12 + $13}' || echo 0)))
  done
  echo $t
}

# settle_jit SECONDS_MAX PID... -- COMMAND...: runs COMMAND (a 5 s load) again and again until the
# JIT compiler threads of every PID together used at most 2 % of a core over it, or SECONDS_MAX
# passed; prints the seconds it took. C2 goes on compiling for about 30 s of load after a JVM
# starts, and a window measured before then charges the compiler to the per-request cost.
settle_jit() {
  local max=$1 pids=() start=$SECONDS before after p
  shift
  while [[ $1 != -- ]]; do pids+=("$1"); shift; done
  shift
  while true; do
    before=0; for p in "${pids[@]}"; do before=$((before + $(jit_ticks "$p"))); done
    "$@" >/dev/null
    after=0; for p in "${pids[@]}"; do after=$((after + $(jit_ticks "$p"))); done
    if (( (after - before) * 100 <= 2 * 5 * CLK_TCK || SECONDS - start >= max )); then
      echo $((SECONDS - start))
      return
    fi
  done
}

# Resident set size of PID in MiB; empty once it is gone.
rss_mib() { awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || true; }

# sample_cpu FILE PID...: every second while the first PID lives, appends
# "epoch_seconds ticks(PID1) ticks(PID2)... rss_mib(PID1)". Run it in the background.
sample_cpu() {
  local file=$1; shift
  while kill -0 "$1" 2>/dev/null; do
    local line t
    line=$(date +%s.%N)
    for p in "$@"; do
      t=$(cpu_ticks "$p")
      line+=" ${t:-NaN}"
    done
    t=$(rss_mib "$1")
    line+=" ${t:-NaN}"
    echo "$line" >>"$file"
    sleep 1
  done
}

# cpu_cores FILE COLUMN: the median, over one-second intervals, of the CPU the process in COLUMN
# (2 = the first PID) used, in cores (1.0 = one core busy). The median leaves out the JVM's
# start and the last requests' drain, when the load is not yet or no longer at its level.
cpu_cores() {
  awk -v col="$2" -v hz="$CLK_TCK" '
    $col != "NaN" { if (n++ > 0 && $1 > t) v[m++] = ($col - c) / hz / ($1 - t); t = $1; c = $col }
    END {
      if (m == 0) { print "NaN"; exit }
      for (i = 0; i < m; i++) for (j = i + 1; j < m; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
      printf "%.2f", m % 2 ? v[(m - 1) / 2] : (v[m / 2 - 1] + v[m / 2]) / 2
    }' "$1"
}

# max_rss FILE: the largest RSS (MiB) sampled, from the last column.
max_rss() { awk '$NF != "NaN" && $NF > m { m = $NF } END { print m + 0 }' "$1"; }

# gc_heap FILE: "peak_mib after_gc_max_mib gc_count" from a -Xlog:gc log: the most heap in use
# before any collection, and the most still in use after one (the live set, at its largest).
gc_heap() {
  awk 'match($0, /[0-9]+M->[0-9]+M\([0-9]+M\)/) {
      s = substr($0, RSTART, RLENGTH); split(s, a, /M->|M\(/)
      if (a[1] + 0 > peak) peak = a[1] + 0
      if (a[2] + 0 > live) live = a[2] + 0
      n++
    }
    END { printf "%d %d %d\n", peak, live, n }' "$1" 2>/dev/null || echo "NaN NaN 0"
}

# wait_port PORT: waits up to 20 s for a TCP listener on 127.0.0.1:PORT.
wait_port() {
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.2; done
  echo "nothing listens on 127.0.0.1:$1 after 20 s" >&2
  return 1
}
