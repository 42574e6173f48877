package dev.tokentap.emulator;

import java.util.PriorityQueue;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * The emulated engine with exact timing ({@link FixedTiming}): a sequence's first token is due
 * {@code firstToken} after its submit, each next one {@code interToken} after the previous one was
 * due, so a late wake-up delays one token and never the rest. Sequences do not batch, queue or slow
 * each other down; there is no KV-cache limit.
 *
 * <pre>
 *  event loops ──submit──▶ arrivals (MPSC queue) + unpark
 *  engine thread: arrivals ─▶ deadlines (earliest first) ─▶ park until the earliest
 *    ─▶ due: one token for each unfinished choice ──▶ Sequence.Listener (hops to the event loop)
 * </pre>
 *
 * A cancelled sequence is dropped when its next token falls due; a stall fault postpones the next
 * token to the stall's end.
 */
final class FixedTimingEngine extends EngineThread {

  private record Due(long atNanos, Sequence sequence) {}

  private final long firstTokenNanos;
  private final long interTokenNanos;
  private final EmulatorMetrics metrics;
  private final Queue<Due> arrivals = new ConcurrentLinkedQueue<>();

  // Engine thread only.
  private final PriorityQueue<Due> deadlines =
      new PriorityQueue<>((a, b) -> Long.compare(a.atNanos - b.atNanos, 0));
  private int runningChoices;

  FixedTimingEngine(FixedTiming timing, EmulatorMetrics metrics) {
    this.firstTokenNanos = timing.firstToken().toNanos();
    this.interTokenNanos = timing.interToken().toNanos();
    this.metrics = metrics;
  }

  @Override
  public void submit(Sequence sequence) {
    arrivals.offer(new Due(System.nanoTime() + firstTokenNanos, sequence));
    unpark();
  }

  @Override
  public void wakeUp() {
    // Nothing to free at once: a cancelled sequence holds no seat or KV budget here.
  }

  @Override
  void run() {
    while (!isClosed()) {
      for (Due d; (d = arrivals.poll()) != null; ) {
        deadlines.add(d);
        runningChoices += d.sequence().choices();
      }
      long now = System.nanoTime();
      for (Due d; (d = deadlines.peek()) != null && d.atNanos() - now <= 0; ) {
        deadlines.poll();
        advance(d, now);
      }
      metrics.publishEngineState(runningChoices, 0, 0);
      Due next = deadlines.peek();
      if (next == null) {
        LockSupport.park(this);
      } else {
        LockSupport.parkNanos(this, next.atNanos() - now);
      }
    }
  }

  private void advance(Due due, long now) {
    Sequence s = due.sequence();
    if (s.isCancelled()) {
      runningChoices -= s.unfinishedChoices;
      return;
    }
    if (s.isStalled(now)) {
      deadlines.add(new Due(s.resumeAtNanos(), s));
      return;
    }
    boolean first = s.prefillRemaining > 0;
    s.prefillRemaining = 0;
    int before = s.unfinishedChoices;
    int produced = s.emitOneEach();
    runningChoices -= before - s.unfinishedChoices;
    metrics.addEngineTokens(first ? s.promptTokens : 0, produced);
    if (produced > 0 || s.isFinished()) {
      s.listener.onOutput(s.emittedSnapshot());
    }
    if (!s.isFinished()) {
      deadlines.add(new Due(due.atNanos() + interTokenNanos, s));
    }
  }
}
