package dev.tokentap.meter;

import java.util.Arrays;

/**
 * The server's own token counts, from whichever usage the stream carried (wire-formats.md §13.4).
 *
 * <ul>
 *   <li>A final usage chunk ({@code choices} empty or absent, usage not all zero) is the answer;
 *       the last one wins.
 *   <li>Otherwise running usage on chunks that carry choices (vLLM/SGLang {@code
 *       continuous_usage_stats}; TGI {@code /v1/completions}, which puts one usage on each prompt's
 *       last chunk): per choice index the largest {@code completion_tokens} seen, summed over
 *       indexes. For n = 1 that is the last running count; vLLM counts per choice for n &gt; 1 and
 *       TGI per prompt, so the sum is the total. A chunk's usage belongs to its first choice. Zeros
 *       are no count (the vLLM role chunk, Ollama's compat layer).
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

  /** Takes the usage of one streamed event, if it has any. */
  void acceptEvent(EventFacts facts) {
    if (!facts.usagePresent || facts.usageAllZero()) {
      return;
    }
    if (facts.usageOnly()) {
      acceptFinal(facts);
      return;
    }
    int choice = facts.choiceCount > 0 ? facts.choiceIndex[0] : 0;
    int slot = Math.min(Math.max(choice, 0), ChoiceTimeline.MAX_TRACKED_CHOICES - 1);
    if (slot >= runningOutputByChoice.length) {
      runningOutputByChoice = Arrays.copyOf(runningOutputByChoice, slot + 1);
    }
    runningOutputByChoice[slot] = Math.max(runningOutputByChoice[slot], facts.completionTokens);
    runningInput = Math.max(runningInput, facts.promptTokens);
    runningCached = Math.max(runningCached, facts.cachedTokens);
    runningReasoning = Math.max(runningReasoning, facts.reasoningTokens);
  }

  /** Takes a usage that is the answer: a final usage chunk, or a non-streaming body's usage. */
  void acceptFinal(EventFacts facts) {
    if (!facts.usagePresent) {
      return;
    }
    finalSeen = true;
    finalOutput = facts.completionTokens;
    finalInput = facts.promptTokens;
    finalCached = facts.cachedTokens;
    finalReasoning = facts.reasoningTokens;
  }

  /** Whether the server gave an output count. */
  boolean hasOutputCount() {
    return (finalSeen && finalOutput != ABSENT) || outputTokens() > 0;
  }

  long outputTokens() {
    if (finalSeen && finalOutput != ABSENT) {
      return finalOutput;
    }
    long sum = 0;
    for (long count : runningOutputByChoice) {
      sum += Math.max(count, 0);
    }
    return sum;
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
}
