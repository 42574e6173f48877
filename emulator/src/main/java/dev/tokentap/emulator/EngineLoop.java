package dev.tokentap.emulator;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * The emulated engine: one thread running a continuous-batching step loop in real time (DESIGN §7).
 *
 * <pre>
 *  event loops ──submit──▶ arrivals (MPSC queue) + unpark
 *                               │
 *  engine thread, each step:    ▼
 *    drop cancelled ─▶ admit waiting in arrival order while seats (max-num-seqs) and KV budget hold
 *    ─▶ plan: one decode token per prefilled sequence, then chunked prefill up to max-batched-tokens
 *    ─▶ sleep to the step's end: base + per_seq × decoding + prefill / prefill_rate
 *    ─▶ emit: a sequence whose prefill completed gets its first token, decoders one more
 *       ──▶ Sequence.Listener (hops to the client channel's event loop, which writes)
 * </pre>
 *
 * An embedding request is a sequence of output length 0: it only prefills, then reports its finish.
 *
 * With nothing to do the thread parks until a submit or cancel unparks it (or a stalled sequence is
 * due), so an idle emulator costs nothing. A step's end is an absolute deadline; when the thread
 * wakes late the next step starts at the previous deadline (up to {@link #MAX_CATCH_UP_NANOS}
 * behind), so timer slack does not slow the modelled rate.
 */
final class EngineLoop extends EngineThread {

  /**
   * Lateness made up by starting the next step at the previous deadline; more is lost, not burst.
   */
  static final long MAX_CATCH_UP_NANOS = 2_000_000;

  private final EngineProfile profile;
  private final EmulatorMetrics metrics;
  private final Queue<Sequence> arrivals = new ConcurrentLinkedQueue<>();

  // Engine thread only.
  private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
  private final ArrayList<Sequence> running = new ArrayList<>();
  private int waitingChoices;
  private int runningChoices;
  private long kvReserved;

  EngineLoop(EngineProfile profile, EmulatorMetrics metrics) {
    this.profile = profile;
    this.metrics = metrics;
  }

  /** Queues a sequence for admission; any thread. */
  @Override
  public void submit(Sequence sequence) {
    arrivals.offer(sequence);
    unpark();
  }

  /** Lets an idle engine notice a cancellation now (frees its KV reservation). */
  @Override
  public void wakeUp() {
    unpark();
  }

  @Override
  void run() {
    long previousDeadline = 0;
    boolean busy = false;
    while (!isClosed()) {
      long now = System.nanoTime();
      takeArrivals();
      dropCancelled();
      admit();

      // Running decodes first, then prefill in arrival order with the rest of the token budget,
      // as vLLM's scheduler does.
      int decoding = 0;
      long earliestResume = 0;
      boolean anyStalled = false;
      for (Sequence s : running) {
        s.prefillThisStep = 0;
        s.decodingThisStep = false;
        if (s.isStalled(now)) {
          earliestResume =
              anyStalled ? Math.min(earliestResume, s.resumeAtNanos()) : s.resumeAtNanos();
          anyStalled = true;
        } else if (s.prefillRemaining == 0) {
          s.decodingThisStep = true;
          decoding += s.unfinishedChoices;
        }
      }
      int budget = profile.maxBatchedTokens() - decoding;
      int prefill = 0;
      for (int i = 0; i < running.size() && budget > 0; i++) {
        Sequence s = running.get(i);
        if (s.prefillRemaining > 0 && !s.isStalled(now)) {
          s.prefillThisStep = Math.min(budget, s.prefillRemaining);
          budget -= s.prefillThisStep;
          prefill += s.prefillThisStep;
        }
      }
      publish();

      if (decoding == 0 && prefill == 0) {
        if (anyStalled) {
          LockSupport.parkNanos(this, earliestResume - now);
        } else {
          LockSupport.park(this);
        }
        busy = false;
        continue;
      }
      long start = busy && now - previousDeadline <= MAX_CATCH_UP_NANOS ? previousDeadline : now;
      long deadline = start + profile.stepNanos(decoding, prefill);
      sleepUntil(deadline);
      if (isClosed()) {
        break;
      }
      emit();
      publish();
      previousDeadline = deadline;
      busy = true;
    }
  }

  private void takeArrivals() {
    for (Sequence s; (s = arrivals.poll()) != null; ) {
      waiting.add(s);
      waitingChoices += s.choices();
    }
  }

  private void dropCancelled() {
    waiting.removeIf(
        s -> {
          if (s.isCancelled()) {
            waitingChoices -= s.choices();
            return true;
          }
          return false;
        });
    running.removeIf(
        s -> {
          if (s.isCancelled()) {
            runningChoices -= s.unfinishedChoices;
            kvReserved -= s.kvReservation;
            return true;
          }
          return false;
        });
  }

  /** First come, first served: the head of the queue blocks the rest until it fits. */
  private void admit() {
    for (Sequence s; (s = waiting.peek()) != null; ) {
      if (runningChoices + s.choices() > profile.maxNumSeqs()
          || kvReserved + s.kvReservation > profile.kvCacheTokens()) {
        return;
      }
      waiting.poll();
      waitingChoices -= s.choices();
      running.add(s);
      runningChoices += s.choices();
      kvReserved += s.kvReservation;
    }
  }

  private void sleepUntil(long deadline) {
    // parkNanos may return early (an unpark from a submit, or spuriously): the step still lasts.
    for (long left; !isClosed() && (left = deadline - System.nanoTime()) > 0; ) {
      LockSupport.parkNanos(this, left);
    }
  }

  private void emit() {
    long promptTokens = 0;
    long generated = 0;
    for (int i = 0; i < running.size(); i++) {
      Sequence s = running.get(i);
      if (s.isCancelled()) {
        continue; // dropped at the next step's start; its client is gone
      }
      int produced = 0;
      if (s.prefillThisStep > 0) {
        s.prefillRemaining -= s.prefillThisStep;
        promptTokens += s.prefillThisStep;
        if (s.prefillRemaining == 0) {
          produced = emitOneEach(s); // the step that completes prefill samples the first token
        }
      } else if (s.decodingThisStep) {
        produced = emitOneEach(s);
      }
      // A prefill-only sequence (an embedding) reports its finish without output.
      if (produced > 0 || s.isFinished()) {
        generated += produced;
        s.listener.onOutput(s.emittedSnapshot());
      }
    }
    running.removeIf(
        s -> {
          if (s.isFinished()) {
            kvReserved -= s.kvReservation;
            return true;
          }
          return false;
        });
    metrics.addEngineTokens(promptTokens, generated);
  }

  private int emitOneEach(Sequence s) {
    int before = s.unfinishedChoices;
    int produced = s.emitOneEach();
    runningChoices -= before - s.unfinishedChoices;
    return produced;
  }

  private void publish() {
    metrics.publishEngineState(
        runningChoices, waitingChoices, (double) kvReserved / profile.kvCacheTokens());
  }
}
