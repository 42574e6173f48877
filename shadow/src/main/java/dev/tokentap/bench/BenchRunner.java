package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Offers a workload's requests to a {@link StreamingClient} as a {@link LoadPlan} says, and
 * collects one {@link BenchSample} per request.
 *
 * <ul>
 *   <li>Closed loop: N slots; each finished request is replaced at once by the next, whose clock
 *       starts when it is sent. Exactly N are in flight until the run stops issuing.
 *   <li>Open loop: one dispatcher thread waits for each absolute intended time of a precomputed
 *       {@link ArrivalSchedule} (park, then spin the last 100 µs) and hands the request over; the
 *       record's clock starts at the intended time, so dispatcher lateness and the wait for a
 *       concurrency ceiling both count in TTFT and E2E. Requests are built before the run starts.
 * </ul>
 *
 * The first {@code warmup} requests are sent like the rest and marked, and the report leaves them
 * out. A duration is the measured window: it starts with the first request after the warm-up.
 */
public final class BenchRunner {
  private static final long SPIN_NANOS = 100_000;

  /**
   * @param requests measured requests ({@code Long.MAX_VALUE}: until the duration ends)
   * @param duration measured window, null for none (one of the two is required)
   */
  public record Options(Workload workload, LoadPlan load, long requests, Duration duration, int warmup, long seed) {
    public Options {
      requireNonNull(workload, "workload");
      requireNonNull(load, "load");
      if (requests == Long.MAX_VALUE && duration == null) {
        throw new IllegalArgumentException("a run needs --requests or --duration");
      }
      if (requests < 1) {
        throw new IllegalArgumentException("requests: " + requests + " (expected: >= 1)");
      }
      if (warmup < 0) {
        throw new IllegalArgumentException("warmup: " + warmup + " (expected: >= 0)");
      }
    }
  }

  /** What one run produced: the samples in completion order and the most requests in flight at once. */
  public record Run(List<BenchSample> samples, int maxInFlight) {}

  private final StreamingClient client;

  public BenchRunner(StreamingClient client) {
    this.client = requireNonNull(client, "client");
  }

  public Run run(Options options) throws InterruptedException {
    return options.load().closedLoop() ? closedLoop(options) : openLoop(options);
  }

  private Run closedLoop(Options o) throws InterruptedException {
    List<BenchSample> samples = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    AtomicLong next = new AtomicLong();
    AtomicLong deadline = new AtomicLong(Long.MAX_VALUE);
    long total = o.requests() == Long.MAX_VALUE ? Long.MAX_VALUE : o.requests() + o.warmup();
    int slots = o.load().concurrency();
    AtomicInteger slotsOpen = new AtomicInteger(slots);
    CompletableFuture<Void> allDone = new CompletableFuture<>();
    // Issuing happens on one thread, off the HTTP client's threads, and never recursively.
    ExecutorService issuer = Executors.newSingleThreadExecutor(r -> daemon(r, "bench-issuer"));
    Runnable[] issue = new Runnable[1];
    issue[0] = () -> {
      long i = next.getAndIncrement();
      long now = System.nanoTime();
      if (i == o.warmup() && o.duration() != null) {
        deadline.set(now + o.duration().toNanos());
      }
      if (i >= total || i >= o.warmup() && deadline.get() != Long.MAX_VALUE && now - deadline.get() >= 0) {
        if (slotsOpen.decrementAndGet() == 0) {
          allDone.complete(null);
        }
        return;
      }
      BenchRequest request = o.workload().request(i);
      int atSend = inFlight.incrementAndGet();
      maxInFlight.accumulateAndGet(atSend, Math::max);
      long start = System.nanoTime();
      client.send(request, start).whenCompleteAsync((r, e) -> {
        inFlight.decrementAndGet();
        samples.add(new BenchSample(i, i < o.warmup(), start, start, atSend, r.record(), r.itlGapsNanos()));
        issue[0].run();
      }, issuer);
    };
    for (int s = 0; s < slots; s++) {
      issuer.execute(issue[0]);
    }
    try {
      allDone.join();
    } finally {
      issuer.shutdown();
    }
    return new Run(List.copyOf(samples), maxInFlight.get());
  }

  private Run openLoop(Options o) throws InterruptedException {
    LoadPlan load = o.load();
    long measuredWindow = o.duration() == null ? Long.MAX_VALUE : o.duration().toNanos();
    long warmupWindow = (long) (o.warmup() / load.rate() * 1e9);
    ArrivalSchedule schedule = ArrivalSchedule.generate(
        load.arrivals(), load.rate(), load.burstiness(),
        o.requests() == Long.MAX_VALUE ? Long.MAX_VALUE : o.requests() + o.warmup(),
        measuredWindow == Long.MAX_VALUE ? Long.MAX_VALUE : measuredWindow + warmupWindow,
        o.seed());
    int n = schedule.size();
    BenchRequest[] requests = new BenchRequest[n];
    for (int i = 0; i < n; i++) {
      requests[i] = o.workload().request(i);
    }
    Semaphore ceiling = load.concurrency() > 0 ? new Semaphore(load.concurrency(), true) : null;
    List<BenchSample> samples = Collections.synchronizedList(new ArrayList<>(n));
    List<CompletableFuture<?>> pending = new ArrayList<>(n);
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    // A small lead so the first intended time is not already past when the loop starts.
    long t0 = System.nanoTime() + 5_000_000;
    for (int i = 0; i < n; i++) {
      long intended = t0 + schedule.offsetNanos(i);
      waitUntil(intended);
      long dispatched = System.nanoTime();
      if (ceiling != null) {
        ceiling.acquire();
      }
      long sent = System.nanoTime();
      int atSend = inFlight.incrementAndGet();
      maxInFlight.accumulateAndGet(atSend, Math::max);
      int index = i;
      pending.add(client.send(requests[i], intended).whenComplete((r, e) -> {
        inFlight.decrementAndGet();
        if (ceiling != null) {
          ceiling.release();
        }
        samples.add(new BenchSample(index, index < o.warmup(), dispatched, sent, atSend, r.record(), r.itlGapsNanos()));
      }));
    }
    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
    return new Run(List.copyOf(samples), maxInFlight.get());
  }

  private static void waitUntil(long deadlineNanos) {
    while (true) {
      long remaining = deadlineNanos - System.nanoTime();
      if (remaining <= 0) {
        return;
      }
      if (remaining > 2 * SPIN_NANOS) {
        LockSupport.parkNanos(remaining - SPIN_NANOS);
      } else {
        Thread.onSpinWait();
      }
    }
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
