package dev.tokentap.meter;

import java.util.Arrays;

/**
 * The server's own token counts, from whichever usage the stream carried (wire-formats.md §13.4).
 *
 * <ul>
 *   <li>A final usage ({@code choices} empty or absent, usage not all zero) is the answer. Several
 *       (Anthropic's {@code message_start} then {@code message_delta}s) merge: a later value of a
 *       field replaces an earlier one, a field a later usage lacks keeps its value.
 *   <li>Otherwise running usage on chunks that carry choices (vLLM/SGLang {@code
 *       continuous_usage_stats}; TGI {@code /v1/completions}, which puts one usage on each prompt's
 *       last chunk): per choice index the largest {@code completion_tokens} seen, summed over
 *       indexes. For n = 1 that is the last running count; vLLM counts per choice for n &gt; 1 and
 *       TGI per prompt, so the sum is the total. A chunk's usage belongs to its first choice. Zeros
 *       are no count (the vLLM role chunk, Ollama's compat layer).
 *   <li>Otherwise a cumulative count the stream carries outside usage (TGI's token {@code index},
 *       llama.cpp's {@code timings.predicted_n}): the largest seen.
 *   <li>Otherwise the sum of per-event counts (Triton's {@code num_output_tokens}).
 * </ul>
 *
 * Input, cached and reasoning counts come from the final usage, else the largest running value (a
 * prompt is shared by the choices, so those are not summed).
 */
final class UsageTally {
  private static final long ABSENT = EventFacts.ABSENT;

  private boolean finalSeen;
  private long finalOutput = ABSENT;
  private long finalInput = ABSENT;
  private long finalCached = ABSENT;
  private long finalReasoning = ABSENT;

  private long[] runningOutputByChoice = new long[0];
  private long runningInput = ABSENT;
  private long runningCached = ABSENT;
  private long runningReasoning = ABSENT;

  private long cumulativeOutput = ABSENT;
  private long eventTokenSum = ABSENT;

  /**
   * Takes every count one streamed event carries (usage, a cumulative count, a per-event count).
   * Returns how many output tokens the server says the event carried, or ABSENT when it does not
   * say: its own per-event count, else the rise of a running usage or of a cumulative count.
   */
  long acceptCounts(EventFacts facts) {
    long usageRise = facts.usagePresent ? acceptEvent(facts) : ABSENT;
    long cumulativeRise = acceptCumulativeOutput(facts.cumulativeOutputTokens);
    acceptEventTokens(facts.eventTokens);
    if (facts.eventTokens >= 0) {
      return facts.eventTokens;
    }
    return usageRise >= 0 ? usageRise : cumulativeRise;
  }

  /**
   * Takes the usage of one streamed event, if it has any. Returns how many output tokens a running
   * usage says this event carried (the rise over the same choice's previous running count), or
   * ABSENT when that is unknown (no earlier running count, a final usage, no usage).
   */
  long acceptEvent(EventFacts facts) {
    if (!facts.usagePresent || facts.usageAllZero()) {
      return ABSENT;
    }
    if (facts.usageOnly()) {
      acceptFinal(facts);
      return ABSENT;
    }
    int choice = facts.choiceCount > 0 ? facts.choiceIndex[0] : 0;
    int slot = Math.min(Math.max(choice, 0), ChoiceTimeline.MAX_TRACKED_CHOICES - 1);
    if (slot >= runningOutputByChoice.length) {
      int from = runningOutputByChoice.length;
      runningOutputByChoice = Arrays.copyOf(runningOutputByChoice, slot + 1);
      Arrays.fill(runningOutputByChoice, from, slot + 1, ABSENT);
    }
    long previous = runningOutputByChoice[slot];
    runningOutputByChoice[slot] = Math.max(previous, facts.completionTokens);
    runningInput = Math.max(runningInput, facts.promptTokens);
    runningCached = Math.max(runningCached, facts.cachedTokens);
    runningReasoning = Math.max(runningReasoning, facts.reasoningTokens);
    return previous == ABSENT || facts.completionTokens == ABSENT
        ? ABSENT
        : facts.completionTokens - previous;
  }

  /** Takes a usage that is the answer: a final usage chunk, or a non-streaming body's usage. */
  void acceptFinal(EventFacts facts) {
    if (!facts.usagePresent) {
      return;
    }
    finalSeen = true;
    finalOutput = latest(finalOutput, facts.completionTokens);
    finalInput = latest(finalInput, facts.promptTokens);
    finalCached = latest(finalCached, facts.cachedTokens);
    finalReasoning = latest(finalReasoning, facts.reasoningTokens);
  }

  /**
   * Takes a cumulative output count; returns the rise over the previous one (tokens this event
   * carried), ABSENT for the first.
   */
  long acceptCumulativeOutput(long count) {
    if (count < 0) {
      return ABSENT;
    }
    long previous = cumulativeOutput;
    cumulativeOutput = Math.max(previous, count);
    return previous == ABSENT ? ABSENT : count - previous;
  }

  /** Takes the server's count of the tokens one event carried. */
  void acceptEventTokens(long count) {
    if (count >= 0) {
      eventTokenSum = Math.max(eventTokenSum, 0) + count;
    }
  }

  /** Whether the server gave an output count. */
  boolean hasOutputCount() {
    return (finalSeen && finalOutput != ABSENT)
        || runningOutput() > 0
        || cumulativeOutput != ABSENT
        || eventTokenSum != ABSENT;
  }

  long outputTokens() {
    if (finalSeen && finalOutput != ABSENT) {
      return finalOutput;
    }
    long running = runningOutput();
    if (running > 0) {
      return running;
    }
    if (cumulativeOutput != ABSENT) {
      return cumulativeOutput;
    }
    return Math.max(eventTokenSum, 0);
  }

  long inputTokens() {
    return finalSeen && finalInput != ABSENT ? finalInput : runningInput;
  }

  long cachedInputTokens() {
    return finalSeen && finalCached != ABSENT ? finalCached : runningCached;
  }

  long reasoningTokens() {
    return finalSeen && finalReasoning != ABSENT ? finalReasoning : runningReasoning;
  }

  private long runningOutput() {
    long sum = 0;
    for (long count : runningOutputByChoice) {
      sum += Math.max(count, 0);
    }
    return sum;
  }

  private static long latest(long kept, long value) {
    return value != ABSENT ? value : kept;
  }
}
