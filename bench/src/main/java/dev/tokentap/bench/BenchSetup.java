package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * What every run of a bench session shares besides its SLOs: where the requests go, which requests
 * are abandoned, and how the report cuts the run in time.
 *
 * @param targets the base URLs ({@code --target}, in the order given; at least one)
 * @param policy how requests are spread over several targets
 * @param cancellation which requests are abandoned, and when ({@code --cancel})
 * @param sliceWidth the report's time slices ({@code --slice}); null for none
 */
public record BenchSetup(List<URI> targets, TargetPolicy policy, Cancellation cancellation, Duration sliceWidth) {
  public BenchSetup {
    targets = List.copyOf(targets);
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("--target: none (expected: at least one base URL)");
    }
    requireNonNull(policy, "policy");
    requireNonNull(cancellation, "cancellation");
    if (sliceWidth != null && (sliceWidth.isNegative() || sliceWidth.isZero())) {
      throw new IllegalArgumentException("--slice: " + sliceWidth + " (expected: a positive duration such as 10s)");
    }
  }

  /** One target, nothing cancelled, no slices. */
  public static BenchSetup of(URI target) {
    return new BenchSetup(List.of(target), TargetPolicy.ROUND_ROBIN, Cancellation.NONE, null);
  }

  /** The targets as strings, for the report. */
  public List<String> targetNames() {
    return targets.stream().map(URI::toString).toList();
  }
}
