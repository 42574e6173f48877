package dev.tokentap.app;

import dev.tokentap.bench.BenchSetup;
import dev.tokentap.bench.Cancellation;
import dev.tokentap.bench.SloSpec;
import dev.tokentap.bench.StreamingClient;
import dev.tokentap.bench.TargetPolicy;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code tokentap bench}'s options for where the load goes, which requests it abandons and how the
 * report slices the run, read into one {@link BenchSetup} (a picocli mixin of {@link BenchCommand}).
 */
final class BenchTargetOptions {
  @Option(names = "--target", required = true, split = ",", paramLabel = "URL",
      description = "base URL of the server, e.g. http://127.0.0.1:8000 (a trailing /v1 is fine); repeat it or give a comma list "
          + "to spread the requests over several servers (--target-policy)")
  List<String> targets;

  @Option(names = "--target-policy", defaultValue = "round-robin",
      description = "with several --target: round-robin or least-in-flight (the one with the fewest requests in flight) (default: ${DEFAULT-VALUE})")
  String targetPolicy;

  @Option(names = "--cancel", paramLabel = "RATIO@DELAY",
      description = "abandon this share of the requests (chosen by --seed) DELAY after sending, closing the connection mid-response, "
          + "e.g. 0.1@2s; counted as cancelled, apart from completed and failed (default: none)")
  String cancel;

  @Option(names = "--slice", paramLabel = "D",
      description = "also report the measured window in slices of this length (e.g. 10s): result.json 'slices', slices.csv and report.html; "
          + "a request belongs to the slice it ended in (default: none)")
  String slice;

  /** The targets, policy, cancellation and slice width, each checked with a message naming its option. */
  BenchSetup setup() {
    List<URI> bases = targets.stream().map(String::trim).filter(t -> !t.isEmpty()).map(StreamingClient::baseOf).toList();
    if (bases.isEmpty()) {
      throw new IllegalArgumentException("--target: none given (expected: a base URL such as http://127.0.0.1:8000)");
    }
    if (bases.stream().distinct().count() < bases.size()) {
      throw new IllegalArgumentException("--target " + String.join(",", targets) + ": a target is given twice (expected: distinct base URLs)");
    }
    Duration width = slice == null ? null : SloSpec.duration("--slice", slice.trim());
    return new BenchSetup(bases, TargetPolicy.parse(targetPolicy), Cancellation.parse(cancel), width);
  }
}
