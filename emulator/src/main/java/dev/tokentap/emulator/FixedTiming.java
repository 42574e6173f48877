package dev.tokentap.emulator;

import static dev.tokentap.emulator.EngineProfile.checkArgument;
import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Exact timing in place of the engine model ({@code tokentap.emulator.fixed-timing}): every request
 * gets its first output token {@code firstToken} after it reached the engine, then one every {@code
 * interToken}, whatever else is running. A client's measurements can then be checked against
 * numbers known in advance, and against the emulator's own (its request log).
 */
public record FixedTiming(Duration firstToken, Duration interToken) {

  public FixedTiming {
    requireNonNull(firstToken, "firstToken");
    requireNonNull(interToken, "interToken");
    checkArgument(!firstToken.isNegative(), "firstToken: %s (expected: >= 0)", firstToken);
    checkArgument(!interToken.isNegative(), "interToken: %s (expected: >= 0)", interToken);
  }

  /** {@code 80ms/12ms}, as {@code tokentap emulate --fixed-timing} writes it. */
  @Override
  public String toString() {
    return firstToken.toMillis() + "ms/" + interToken.toMillis() + "ms";
  }
}
