package dev.tokentap.meter;

/**
 * Receives per-gap inter-token latencies (and per-event token counts, where the server reports
 * them) as they happen, so metrics are live.
 *
 * <p>Called on the thread that feeds the {@link StreamMeter}, once per gap between two consecutive
 * token-bearing events of the same choice (DESIGN.md §3, ITL). It must not block.
 */
@FunctionalInterface
public interface TokenGapListener {
  TokenGapListener NONE = gapNanos -> {};

  void interTokenGap(long gapNanos);

  /**
   * The server said how many output tokens one event carried (vLLM {@code continuous_usage_stats}
   * differences, llama.cpp {@code timings.predicted_n} differences, Triton {@code
   * num_output_tokens}): more than one shows speculative decoding or batched streaming.
   */
  default void tokensPerEvent(long tokens) {}
}
