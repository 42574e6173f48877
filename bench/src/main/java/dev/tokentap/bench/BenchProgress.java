package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code --progress D}: every {@code D} a line on stderr with the step and its load, elapsed and
 * planned time, the step's requests done and failed, its achieved rate, requests in flight, and
 * TTFT and TPOT p50/p99 of the step's measured requests so far:
 *
 * <pre>
 * step 2/5 concurrency:4 | 12.0s/30.0s, total 0:52/2:30 | done 340, errors 2 | achieved 28.3 req/s | in flight 4 | TTFT p50 120ms p99 480ms | TPOT p50 20.1ms p99 35.2ms
 * </pre>
 *
 * On a terminal the line is rewritten in place ({@code \r}) and kept when its step ends; otherwise
 * each report is a plain line, for logs.
 *
 * <p>Requests finish on the HTTP client's threads: {@link #finished} only appends to a lock-free
 * queue and bumps counters; the reporting thread drains the queue into the step's own arrays and
 * computes the percentiles there (numpy's, as the report does), so nothing waits for a report.
 */
public final class BenchProgress implements BenchListener, AutoCloseable {
  /**
   * What the whole session plans.
   *
   * @param steps how many steps, 0 when unknown
   * @param atMost {@code steps} is a budget (a sweep), not a count
   * @param total planned time of all steps, null when unknown
   */
  public record Plan(int steps, boolean atMost, Duration total) {}

  /** What one finished request adds to a step's live numbers. */
  private record Done(boolean warmup, boolean ok, boolean cancelled, double ttftSeconds, double tpotSeconds) {}

  private final PrintWriter out;
  private final boolean inPlace;
  private final Plan plan;
  private final long sessionStart = System.nanoTime();
  private final ScheduledExecutorService timer;
  private volatile Step current;

  /**
   * @param inPlace rewrite one line with {@code \r} (a terminal), rather than printing plain lines
   */
  public BenchProgress(PrintWriter out, Duration every, boolean inPlace, Plan plan) {
    this.out = requireNonNull(out, "out");
    this.plan = requireNonNull(plan, "plan");
    if (every.isZero() || every.isNegative()) {
      throw new IllegalArgumentException("every: " + every + " (expected: > 0)");
    }
    this.inPlace = inPlace;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "bench-progress");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleAtFixedRate(this::report, every.toNanos(), every.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Whether this process's stderr is a terminal (Linux: fd 2 is a tty; elsewhere: there is a console). */
  public static boolean stderrIsTerminal() {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (Exception e) {
      return System.console() != null;
    }
  }

  @Override
  public void stepStarted(int step, BenchRunner.Options options) {
    current = new Step(step, options);
  }

  @Override
  public void sent() {
    Step s = current;
    if (s != null) {
      s.sent.incrementAndGet();
    }
  }

  @Override
  public void finished(BenchSample sample) {
    Step s = current;
    if (s != null) {
      s.finished.incrementAndGet();
      s.queue.add(new Done(sample.warmup(), sample.ok(), sample.cancelled(), sample.record().ttftSeconds(), sample.record().tpotSeconds()));
    }
  }

  @Override
  public synchronized void stepFinished(int step, BenchReport report) {
    Step s = current;
    current = null;
    if (inPlace && s != null) {
      print(s, true);
    }
  }

  private synchronized void report() {
    Step s = current;
    if (s != null) {
      print(s, false);
    }
  }

  private void print(Step s, boolean last) {
    String line = s.line(System.nanoTime());
    if (inPlace) {
      out.print("\r" + line + "\033[K" + (last ? System.lineSeparator() : ""));
    } else {
      out.println(line);
    }
    out.flush();
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }

  /** One step's live numbers; the queue and counters are shared, the rest is the reporter's. */
  private final class Step {
    final int index;
    final BenchRunner.Options options;
    final long start = System.nanoTime();
    final AtomicLong sent = new AtomicLong();
    final AtomicLong finished = new AtomicLong();
    final Queue<Done> queue = new ConcurrentLinkedQueue<>();
    long measured;
    long errors;
    long cancelled;
    long warmups;
    double[] ttft = new double[256];
    int ttftCount;
    double[] tpot = new double[256];
    int tpotCount;

    Step(int index, BenchRunner.Options options) {
      this.index = index;
      this.options = options;
    }

    void drain() {
      for (Done d = queue.poll(); d != null; d = queue.poll()) {
        if (d.warmup()) {
          warmups++;
          continue;
        }
        measured++;
        if (!d.ok()) {
          if (d.cancelled()) {
            cancelled++;
          } else {
            errors++;
          }
          continue;
        }
        if (!Double.isNaN(d.ttftSeconds())) {
          ttft = append(ttft, ttftCount++, d.ttftSeconds());
        }
        if (!Double.isNaN(d.tpotSeconds())) {
          tpot = append(tpot, tpotCount++, d.tpotSeconds());
        }
      }
    }

    String line(long now) {
      drain();
      double stepSeconds = (now - start) / 1e9;
      StringBuilder b = new StringBuilder("step ").append(index);
      if (plan.steps() > 0) {
        b.append(plan.atMost() ? " (of at most " + plan.steps() + ")" : "/" + plan.steps());
      }
      b.append(' ').append(options.load().describe()).append(" | ").append(String.format(Locale.ROOT, "%.1fs", stepSeconds));
      if (options.duration() != null) {
        Duration planned = options.duration().plus(options.warmupDuration() == null ? Duration.ZERO : options.warmupDuration());
        b.append(String.format(Locale.ROOT, "/%.1fs", planned.toMillis() / 1000.0));
      }
      b.append(", total ").append(clock(now - sessionStart));
      if (plan.total() != null) {
        b.append('/').append(clock(plan.total().toNanos()));
      }
      b.append(" | ");
      if (measured == 0 && warmups > 0) {
        b.append("warm-up, ").append(warmups).append(" done");
      } else {
        b.append("done ").append(measured);
        if (options.requests() != Long.MAX_VALUE) {
          b.append('/').append(options.requests());
        }
        b.append(", errors ").append(errors);
        if (cancelled > 0) {
          b.append(", cancelled ").append(cancelled);
        }
      }
      b.append(String.format(Locale.ROOT, " | achieved %.1f req/s | in flight %d", stepSeconds > 0 ? sent.get() / stepSeconds : 0.0,
          sent.get() - finished.get()));
      b.append(" | TTFT ").append(percentiles(ttft, ttftCount)).append(" | TPOT ").append(percentiles(tpot, tpotCount));
      return b.toString();
    }
  }

  private static double[] append(double[] values, int at, double value) {
    double[] v = at < values.length ? values : Arrays.copyOf(values, values.length * 2);
    v[at] = value;
    return v;
  }

  private static String percentiles(double[] values, int count) {
    if (count == 0) {
      return "p50 - p99 -";
    }
    double[] sorted = Arrays.copyOf(values, count);
    Arrays.sort(sorted);
    return "p50 " + ms(Stats.percentileOfSorted(sorted, 50)) + " p99 " + ms(Stats.percentileOfSorted(sorted, 99));
  }

  static String ms(double seconds) {
    double ms = seconds * 1000;
    return String.format(Locale.ROOT, ms >= 100 ? "%.0fms" : ms >= 10 ? "%.1fms" : "%.2fms", ms);
  }

  static String clock(long nanos) {
    long s = TimeUnit.NANOSECONDS.toSeconds(nanos);
    return s >= 3600
        ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
