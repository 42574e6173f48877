package dev.tokentap.emulator;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The parameters of the emulated engine's continuous-batching timing model (DESIGN §7).
 *
 * <p>One engine step costs {@code baseStep + perSequenceStep × decodingSequences + prefillTokens /
 * prefillTokensPerSecond}. A step takes at most {@code maxBatchedTokens} tokens (one per decoding
 * sequence plus chunked prefill); at most {@code maxNumSeqs} sequences run at once and the prompt
 * plus maximum output of every admitted request must fit in {@code kvCacheTokens}.
 */
public record EngineProfile(
    String name,
    Duration baseStep,
    Duration perSequenceStep,
    double prefillTokensPerSecond,
    int maxBatchedTokens,
    int maxNumSeqs,
    long kvCacheTokens) {

  public EngineProfile {
    requireNonNull(name, "name");
    requireNonNull(baseStep, "baseStep");
    requireNonNull(perSequenceStep, "perSequenceStep");
    checkArgument(!baseStep.isNegative(), "baseStep: %s (expected: >= 0)", baseStep);
    checkArgument(
        !perSequenceStep.isNegative(), "perSequenceStep: %s (expected: >= 0)", perSequenceStep);
    checkArgument(
        prefillTokensPerSecond > 0 && Double.isFinite(prefillTokensPerSecond),
        "prefillTokensPerSecond: %s (expected: > 0)",
        prefillTokensPerSecond);
    checkArgument(maxBatchedTokens > 0, "maxBatchedTokens: %s (expected: > 0)", maxBatchedTokens);
    checkArgument(maxNumSeqs > 0, "maxNumSeqs: %s (expected: > 0)", maxNumSeqs);
    checkArgument(kvCacheTokens > 0, "kvCacheTokens: %s (expected: > 0)", kvCacheTokens);
  }

  /**
   * Roughly an 8B model in bf16 on one 80 GB GPU, from public vLLM figures of that order: about 12
   * ms per token at 64 running sequences and 27 ms at 256.
   */
  public static EngineProfile realistic() {
    return new EngineProfile(
        "realistic", Duration.ofMillis(7), Duration.ofNanos(80_000), 25_000, 8192, 256, 420_000);
  }

  /** {@link #realistic()} a hundred times faster, for tests and benchmarks; same capacities. */
  public static EngineProfile fast() {
    return new EngineProfile(
        "fast", Duration.ofNanos(70_000), Duration.ofNanos(800), 2_500_000, 8192, 256, 420_000);
  }

  /** The profile called {@code name}: {@code realistic} or {@code fast}. */
  public static EngineProfile named(String name) {
    requireNonNull(name, "name");
    return switch (name) {
      case "realistic" -> realistic();
      case "fast" -> fast();
      default ->
          throw new IllegalArgumentException(
              "profile: " + name + " (expected: one of realistic, fast)");
    };
  }

  public EngineProfile withBaseStep(Duration baseStep) {
    return new EngineProfile(
        name,
        baseStep,
        perSequenceStep,
        prefillTokensPerSecond,
        maxBatchedTokens,
        maxNumSeqs,
        kvCacheTokens);
  }

  public EngineProfile withPerSequenceStep(Duration perSequenceStep) {
    return new EngineProfile(
        name,
        baseStep,
        perSequenceStep,
        prefillTokensPerSecond,
        maxBatchedTokens,
        maxNumSeqs,
        kvCacheTokens);
  }

  public EngineProfile withPrefillTokensPerSecond(double prefillTokensPerSecond) {
    return new EngineProfile(
        name,
        baseStep,
        perSequenceStep,
        prefillTokensPerSecond,
        maxBatchedTokens,
        maxNumSeqs,
        kvCacheTokens);
  }

  public EngineProfile withMaxBatchedTokens(int maxBatchedTokens) {
    return new EngineProfile(
        name,
        baseStep,
        perSequenceStep,
        prefillTokensPerSecond,
        maxBatchedTokens,
        maxNumSeqs,
        kvCacheTokens);
  }

  public EngineProfile withMaxNumSeqs(int maxNumSeqs) {
    return new EngineProfile(
        name,
        baseStep,
        perSequenceStep,
        prefillTokensPerSecond,
        maxBatchedTokens,
        maxNumSeqs,
        kvCacheTokens);
  }

  public EngineProfile withKvCacheTokens(long kvCacheTokens) {
    return new EngineProfile(
        name,
        baseStep,
        perSequenceStep,
        prefillTokensPerSecond,
        maxBatchedTokens,
        maxNumSeqs,
        kvCacheTokens);
  }

  /** The modelled duration of one step, in nanoseconds. */
  public long stepNanos(int decodingSequences, int prefillTokens) {
    return baseStep.toNanos()
        + perSequenceStep.toNanos() * decodingSequences
        + (long) (prefillTokens * 1e9 / prefillTokensPerSecond);
  }

  static void checkArgument(boolean ok, String format, Object... args) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(format, args));
    }
  }
}
