package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

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
 *
 * <p>A request with a {@linkplain BenchRequest#followUp() follow-up} (a conversation's next turn)
 * is followed by it as soon as it finishes, or its {@linkplain BenchRequest#thinkNanos() think time}
 * after that ({@link Sessions}), as a user would: the load starts conversations (a
 * closed-loop slot sends the next turn before taking a new conversation; an open-loop arrival
 * starts one, which keeps its concurrency-ceiling permit until its last turn) and the turns of one
 * conversation never overlap. Every turn is one request for {@code requests} and the duration, so
 * the run's end can cut a conversation short. Open loop: a conversation started in the warm-up is
 * warm-up to its last turn.
 *
 * <p>With a {@link Cancellation}, the requests it chooses by {@code (seed, index)}, warm-up ones
 * too, are abandoned its delay after their hand-off.
 */
public final class BenchRunner {
  /**
   * @param requests measured requests ({@code Long.MAX_VALUE}: until the duration ends)
   * @param duration measured window, null for none (one of the two is required)
   * @param warmup requests sent first and left out of the report
   * @param warmupDuration also left out: every request sent (open loop: scheduled) this soon after
   *     the run's start; null or zero for none
   * @param phaseNanos open loop: every intended time this much later (a constant-rate {@link Shard}'s
   *     place among the others); 0 for none
   */
  public record Options(Workload workload, LoadPlan load, long requests, Duration duration, int warmup, long seed,
      Duration warmupDuration, long phaseNanos) {
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
      if (warmupDuration != null && warmupDuration.isNegative()) {
        throw new IllegalArgumentException("warmupDuration: " + warmupDuration + " (expected: >= 0)");
      }
      if (load.arrivals() == ArrivalSchedule.Kind.TRACE && !(workload instanceof TimedWorkload)) {
        throw new IllegalArgumentException("--load " + load.describe() + " replays a trace's arrival times: it needs --workload trace:PATH or mooncake:PATH");
      }
      if (phaseNanos < 0) {
        throw new IllegalArgumentException("phaseNanos: " + phaseNanos + " (expected: >= 0)");
      }
    }

    public Options(Workload workload, LoadPlan load, long requests, Duration duration, int warmup, long seed, Duration warmupDuration) {
      this(workload, load, requests, duration, warmup, seed, warmupDuration, 0);
    }

    public Options(Workload workload, LoadPlan load, long requests, Duration duration, int warmup, long seed) {
      this(workload, load, requests, duration, warmup, seed, null);
    }

    /** The same run at another load. */
    public Options withLoad(LoadPlan load) {
      return new Options(workload, load, requests, duration, warmup, seed, warmupDuration, phaseNanos);
    }

    long warmupNanos() {
      return warmupDuration == null ? 0 : warmupDuration.toNanos();
    }
  }

  /**
   * What one run produced: the samples in completion order (warm-up included), the most requests in
   * flight at once, and what the hiccup monitor saw during it.
   */
  public record Run(List<BenchSample> samples, int maxInFlight, HiccupMonitor.Summary hiccups) {
    public Run(List<BenchSample> samples, int maxInFlight) {
      this(samples, maxInFlight, HiccupMonitor.Summary.NONE);
    }
  }

  private final StreamingClient client;
  private final BenchListener listener;
  private final Cancellation cancellation;

  public BenchRunner(StreamingClient client) {
    this(client, BenchListener.NONE);
  }

  public BenchRunner(StreamingClient client, BenchListener listener) {
    this(client, listener, Cancellation.NONE);
  }

  public BenchRunner(StreamingClient client, BenchListener listener, Cancellation cancellation) {
    this.client = requireNonNull(client, "client");
    this.listener = requireNonNull(listener, "listener");
    this.cancellation = requireNonNull(cancellation, "cancellation");
  }

  public Run run(Options options) throws InterruptedException {
    HiccupMonitor monitor = HiccupMonitor.start();
    try {
      Run run = options.load().closedLoop() ? closedLoop(options) : openLoop(options);
      return new Run(run.samples(), run.maxInFlight(), monitor.stop());
    } finally {
      monitor.close();
    }
  }

  private Run closedLoop(Options o) throws InterruptedException {
    List<BenchSample> samples = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    AtomicLong next = new AtomicLong();
    AtomicLong nextConversation = new AtomicLong();
    AtomicLong measuredIssued = new AtomicLong();
    AtomicLong deadline = new AtomicLong(Long.MAX_VALUE);
    int slots = o.load().concurrency();
    AtomicInteger slotsOpen = new AtomicInteger(slots);
    CompletableFuture<Void> allDone = new CompletableFuture<>();
    long warmupEnd = System.nanoTime() + o.warmupNanos();
    // Issuing happens on one thread, off the HTTP client's threads, and never recursively; so the
    // counters below change on that thread only.
    ScheduledExecutorService issuer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "bench-issuer"));
    Slot[] issue = new Slot[1];
    issue[0] = (followUp, followUpTurn) -> {
      long i = next.getAndIncrement();
      long now = System.nanoTime();
      // Both conditions only ever turn false, so warm-up requests come before all measured ones.
      boolean warm = i < o.warmup() || now - warmupEnd < 0;
      boolean stop;
      if (warm) {
        stop = false;
      } else {
        long m = measuredIssued.getAndIncrement();
        if (m == 0 && o.duration() != null) {
          deadline.set(now + o.duration().toNanos());
        }
        stop = m >= o.requests() || deadline.get() != Long.MAX_VALUE && now - deadline.get() >= 0;
      }
      if (stop) {
        if (slotsOpen.decrementAndGet() == 0) {
          allDone.complete(null);
        }
        return;
      }
      // The finished request's next turn, else the workload's next request (for single requests,
      // the same index as the run's: both counters move together until the run stops).
      BenchRequest request = followUp != null ? followUp : o.workload().request(nextConversation.getAndIncrement());
      int turn = followUp != null ? followUpTurn : 0;
      int atSend = inFlight.incrementAndGet();
      maxInFlight.accumulateAndGet(atSend, Math::max);
      long start = System.nanoTime();
      listener.sent();
      client.send(request, start, cancelAfter(o, i)).whenCompleteAsync((r, e) -> {
        inFlight.decrementAndGet();
        BenchSample sample = new BenchSample(i, warm, start, start, atSend, r.record(), r.itlGapsNanos(), turn, r.target());
        samples.add(sample);
        listener.finished(sample);
        // The slot's user thinks before the next turn: nothing of it is in flight meanwhile.
        BenchRequest nextTurn = request.next();
        if (nextTurn != null && nextTurn.thinkNanos() > 0) {
          issuer.schedule(() -> issue[0].issue(nextTurn, turn + 1), nextTurn.thinkNanos(), TimeUnit.NANOSECONDS);
        } else {
          issue[0].issue(nextTurn, turn + 1);
        }
      }, issuer);
    };
    for (int s = 0; s < slots; s++) {
      issuer.execute(() -> issue[0].issue(null, 0));
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
    long warmupNanos = o.warmupNanos();
    // Warm-up lasts until both its count and its time are done.
    long warmupWindow = Math.max(ArrivalSchedule.warmupWindowNanos(o), warmupNanos);
    // A schedule's prefix does not depend on its length (same seed), so the arrivals inside the
    // warm-up period can be counted first and the measured requests added to them.
    long warmupCount = o.warmup();
    if (warmupNanos > 0) {
      warmupCount = Math.max(warmupCount, ArrivalSchedule.of(o, Long.MAX_VALUE, warmupNanos).size());
    }
    ArrivalSchedule schedule = ArrivalSchedule.of(o,
        o.requests() == Long.MAX_VALUE ? Long.MAX_VALUE : o.requests() + warmupCount,
        measuredWindow == Long.MAX_VALUE ? Long.MAX_VALUE : measuredWindow + warmupWindow);
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
    // Measured requests handed over, later turns included; a schedule has no more measured
    // arrivals than requests, so this only binds when conversations add turns.
    AtomicLong measuredSent = new AtomicLong();
    AtomicLong nextFollowUpIndex = new AtomicLong(n);
    // Think times between a conversation's turns wait here, off the client's event loops.
    ScheduledExecutorService thinker = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "bench-think"));
    // A small lead so the first intended time is not already past when the loop starts.
    long t0 = System.nanoTime() + 5_000_000;
    long end = measuredWindow == Long.MAX_VALUE ? Long.MAX_VALUE : t0 + warmupWindow + measuredWindow;
    for (int i = 0; i < n; i++) {
      boolean warm = i < o.warmup() || schedule.offsetNanos(i) < warmupNanos;
      if (!warm && measuredSent.getAndIncrement() >= o.requests()) {
        break;
      }
      long intended = t0 + o.phaseNanos() + schedule.offsetNanos(i);
      Pacer.waitUntil(intended);
      long dispatched = System.nanoTime();
      listener.scheduleLag(dispatched - intended);
      if (ceiling != null) {
        ceiling.acquire();
      }
      long sent = System.nanoTime();
      int atSend = inFlight.incrementAndGet();
      maxInFlight.accumulateAndGet(atSend, Math::max);
      listener.sent();
      CompletableFuture<Void> conversationDone = new CompletableFuture<>();
      pending.add(conversationDone);
      new Object() {
        /** Sends one turn; when it finishes, the next one, until the conversation or the run ends. */
        void send(BenchRequest request, long index, int turn, long startNanos, long dispatchNanos, long sendNanos, int atSend) {
          client.send(request, startNanos, cancelAfter(o, index)).whenComplete((r, e) -> {
            inFlight.decrementAndGet();
            BenchSample sample = new BenchSample(index, warm, dispatchNanos, sendNanos, atSend, r.record(), r.itlGapsNanos(), turn,
                r.target());
            samples.add(sample);
            listener.finished(sample);
            // Built here, on the client's event loop: a body of the dataset's size, no blocking.
            BenchRequest next = request.followUp() == null ? null : request.next();
            if (next != null && next.thinkNanos() > 0) {
              thinker.schedule(() -> sendNext(next, turn), next.thinkNanos(), TimeUnit.NANOSECONDS);
            } else {
              sendNext(next, turn);
            }
          });
        }

        /** Sends a conversation's next turn, unless there is none or the run has ended. */
        void sendNext(BenchRequest next, int turn) {
          long now = System.nanoTime();
          if (next == null || end != Long.MAX_VALUE && now - end >= 0 || !warm && measuredSent.getAndIncrement() >= o.requests()) {
            if (ceiling != null) {
              ceiling.release();
            }
            conversationDone.complete(null);
            return;
          }
          // The permit passes to the next turn: a conversation holds one place under the ceiling.
          int nextAtSend = inFlight.incrementAndGet();
          maxInFlight.accumulateAndGet(nextAtSend, Math::max);
          listener.sent();
          send(next, nextFollowUpIndex.getAndIncrement(), turn + 1, now, now, now, nextAtSend);
        }
      }.send(requests[i], i, 0, intended, dispatched, sent, atSend);
    }
    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
    thinker.shutdown();
    return new Run(List.copyOf(samples), maxInFlight.get());
  }

  /** Closed loop: issues a slot's next request: {@code followUp} (turn {@code followUpTurn} of its conversation), else a new one. */
  private interface Slot {
    void issue(BenchRequest followUp, int followUpTurn);
  }

  /** When request {@code index} is to be abandoned after its hand-off; null when it is not. */
  private Duration cancelAfter(Options o, long index) {
    return cancellation.chosen(o.seed(), index) ? cancellation.delay() : null;
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
