package dev.tokentap.meter;

/**
 * Receives per-gap inter-token latencies as they happen, so metrics are live.
 *
 * <p>Called on the thread that feeds the {@link StreamMeter}, once per gap between two consecutive
 * token-bearing events of the same choice (DESIGN.md §3, ITL). It must not block.
 */
@FunctionalInterface
public interface TokenGapListener {
  TokenGapListener NONE = gapNanos -> {};

  void interTokenGap(long gapNanos);
}
