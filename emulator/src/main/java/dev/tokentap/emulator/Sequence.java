package dev.tokentap.emulator;

/**
 * One request inside the engine: its prompt to prefill and the output tokens of each of its {@code
 * n} choices. Created on an event loop, then owned by the engine thread; the only field another
 * thread touches is {@link #cancel() cancelled}.
 *
 * <p>A choice of target length 0 is prefill only (an embedding): it holds its seat until the step
 * that completes the prompt's prefill, and finishes there without output.
 */
final class Sequence {

  /**
   * Receives the engine's progress; called on the engine thread, so implementations hop threads.
   */
  interface Listener {
    /** After a step that produced output: tokens emitted so far per choice (a copy to keep). */
    void onOutput(int[] emittedPerChoice);
  }

  final int promptTokens;
  final long kvReservation;
  final Listener listener;
  private final int[] targetLengths;
  private final int stallAfterTokens;
  private final long stallNanos;

  // Written by the event loop that owns the client channel, read by the engine at each step.
  private volatile boolean cancelled;

  // Engine thread only.
  int prefillRemaining;
  int unfinishedChoices;
  int prefillThisStep;
  boolean decodingThisStep;
  private final int[] emitted;
  private int emittedTotal;
  private boolean stallSpent;
  private long resumeAtNanos;
  private boolean prefilled;

  /**
   * @param stallAfterTokens total output tokens after which the sequence stalls once, or -1
   */
  Sequence(
      int promptTokens,
      int[] targetLengths,
      long kvReservation,
      int stallAfterTokens,
      long stallNanos,
      Listener listener) {
    this.promptTokens = promptTokens;
    this.targetLengths = targetLengths.clone();
    this.kvReservation = kvReservation;
    this.stallAfterTokens = stallAfterTokens;
    this.stallNanos = stallNanos;
    this.listener = listener;
    this.prefillRemaining = promptTokens;
    this.unfinishedChoices = targetLengths.length;
    this.emitted = new int[targetLengths.length];
  }

  int choices() {
    return targetLengths.length;
  }

  void cancel() {
    cancelled = true;
  }

  boolean isCancelled() {
    return cancelled;
  }

  boolean isFinished() {
    return unfinishedChoices == 0;
  }

  /** Whether the sequence makes no progress at {@code now}; starts its stall when it is due. */
  boolean isStalled(long now) {
    if (stallAfterTokens >= 0 && !stallSpent && emittedTotal >= stallAfterTokens) {
      stallSpent = true;
      resumeAtNanos = now + stallNanos;
    }
    // nanoTime may be negative: compare only once a stall has begun.
    return stallSpent && resumeAtNanos - now > 0;
  }

  long resumeAtNanos() {
    return resumeAtNanos;
  }

  /**
   * One token for every unfinished choice; returns how many were produced. The first call (the step
   * that completed prefill) also finishes the prefill-only choices.
   */
  int emitOneEach() {
    int produced = 0;
    for (int c = 0; c < emitted.length; c++) {
      if (emitted[c] < targetLengths[c]) {
        emitted[c]++;
        produced++;
        if (emitted[c] == targetLengths[c]) {
          unfinishedChoices--;
        }
      } else if (targetLengths[c] == 0 && !prefilled) {
        unfinishedChoices--;
      }
    }
    prefilled = true;
    emittedTotal += produced;
    return produced;
  }

  int[] emittedSnapshot() {
    return emitted.clone();
  }
}
