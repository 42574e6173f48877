package dev.tokentap.meter;

import java.util.Arrays;

/**
 * The token-bearing events of a response: when the first, the first visible (TTFO) and the last
 * arrived, how many there were, and per choice index the same plus the gaps between them, which go
 * to the {@link TokenGapListener} as they happen (DESIGN.md §3, ITL).
 *
 * <p>Gaps are taken per choice because with {@code n > 1} the server interleaves the choices'
 * chunks: the gap between choice 0's and choice 1's chunk is no one's inter-token latency.
 */
final class ChoiceTimeline {
  /**
   * Choice indexes at or above this share the last slot (TGI numbers prompts × n; keep bounded).
   */
  static final int MAX_TRACKED_CHOICES = 4096;

  private final TokenGapListener gaps;
  private long[] first = new long[1];
  private long[] last = new long[1];
  private int[] count = new int[1];
  private int distinct;

  private int tokenEvents;
  private long firstTokenNanos = MeterResult.NEVER;
  private long lastTokenNanos = MeterResult.NEVER;
  private boolean sawOutput; // not firstOutputNanos == NEVER: -1 is a valid nanoTime reading
  private long firstOutputNanos = MeterResult.NEVER;

  ChoiceTimeline(TokenGapListener gaps) {
    this.gaps = gaps;
  }

  /** One event completed at {@code nanos}; it counts if any of its choices carried a token. */
  void event(EventFacts facts, long nanos) {
    boolean token = false;
    boolean visible = false;
    for (int i = 0; i < facts.choiceCount; i++) {
      byte flags = facts.choiceFlags[i];
      if ((flags & EventFacts.TOKEN) != 0) {
        token = true;
        visible |= (flags & EventFacts.VISIBLE) != 0;
        token(facts.choiceIndex[i], nanos);
      }
    }
    if (!token) {
      return;
    }
    if (tokenEvents == 0) {
      firstTokenNanos = nanos;
    }
    tokenEvents++;
    lastTokenNanos = nanos;
    if (visible && !sawOutput) {
      sawOutput = true;
      firstOutputNanos = nanos;
    }
  }

  int tokenEvents() {
    return tokenEvents;
  }

  long firstTokenNanos() {
    return firstTokenNanos;
  }

  /** The first event with visible (non-reasoning) output: TTFO. */
  long firstOutputNanos() {
    return firstOutputNanos;
  }

  long lastTokenNanos() {
    return lastTokenNanos;
  }

  /** A token-bearing event of choice {@code index} completed at {@code nanos}. */
  void token(int index, long nanos) {
    int slot = Math.min(Math.max(index, 0), MAX_TRACKED_CHOICES - 1);
    if (slot >= count.length) {
      int size = Math.min(MAX_TRACKED_CHOICES, Math.max(slot + 1, count.length * 2));
      first = Arrays.copyOf(first, size);
      last = Arrays.copyOf(last, size);
      count = Arrays.copyOf(count, size);
    }
    if (count[slot] == 0) {
      first[slot] = nanos;
      distinct++;
    } else {
      long gap = nanos - last[slot];
      try {
        gaps.interTokenGap(gap);
      } catch (RuntimeException e) {
        // A failing metrics sink must not corrupt the record nor reach the relay.
      }
    }
    last[slot] = nanos;
    count[slot]++;
  }

  /** Distinct choice indexes that carried tokens. */
  int choices() {
    return distinct;
  }

  /**
   * TPOT in seconds for N output tokens, NaN when undefined.
   *
   * <p>One choice: {@code (t_last − t_first) / (N − 1)}, for {@code N ≥ 2}. Several choices: N
   * covers all of them, so each choice c with {@code k_c} token-bearing events is given {@code k'_c
   * = k_c × N / Σk} tokens, its TPOT is {@code (t_last_c − t_first_c) / (k'_c − 1)} when {@code
   * k'_c ≥ 2}, and the result is the mean over those choices.
   */
  double tpotSeconds(long outputTokens) {
    if (distinct == 0 || outputTokens < 2) {
      return Double.NaN;
    }
    if (distinct == 1) {
      for (int slot = 0; slot < count.length; slot++) {
        if (count[slot] > 0) {
          return seconds(last[slot] - first[slot]) / (outputTokens - 1);
        }
      }
    }
    long events = 0;
    for (int c : count) {
      events += c;
    }
    double sum = 0;
    int measured = 0;
    for (int slot = 0; slot < count.length; slot++) {
      double tokens = (double) count[slot] * outputTokens / events;
      if (count[slot] > 0 && tokens >= 2) {
        sum += seconds(last[slot] - first[slot]) / (tokens - 1);
        measured++;
      }
    }
    return measured == 0 ? Double.NaN : sum / measured;
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }
}
