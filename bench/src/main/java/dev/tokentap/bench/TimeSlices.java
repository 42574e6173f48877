package dev.tokentap.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --slice W}: the measured window cut into consecutive slices of width {@code W} from the
 * first measured request's {@code t_start}, each with the numbers of the requests that <em>ended</em>
 * in it (any outcome), computed from those records alone ({@link RequestTotals}). Every measured
 * request is in exactly one slice, so the slices add up to the run. The last slice ends at the last
 * request's end and is usually shorter; rates are per second of each slice's own span.
 */
final class TimeSlices {
  /**
   * @param index 0, 1, 2, … in time order
   * @param startNanos the slice's start; {@code endNanos} its end (the last: the run's last end)
   */
  record Slice(int index, long startNanos, long endNanos, RequestTotals totals) {
    double seconds() {
      return (endNanos - startNanos) / 1e9;
    }

    /** Per second of the slice; NaN for an empty span. */
    double rate(double count) {
      return endNanos > startNanos ? count / seconds() : Double.NaN;
    }
  }

  private TimeSlices() {}

  /** The slices of {@code measured}; none when there is no request. */
  static List<Slice> of(List<BenchSample> measured, Duration width, SloSpec slo) {
    if (measured.isEmpty()) {
      return List.of();
    }
    long w = width.toNanos();
    long t0 = measured.stream().mapToLong(BenchSample::startNanos).min().orElseThrow();
    long last = measured.stream().mapToLong(BenchSample::endNanos).max().orElseThrow();
    int n = (int) ((last - t0) / w) + 1;
    List<List<BenchSample>> members = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      members.add(new ArrayList<>());
    }
    for (BenchSample s : measured) {
      members.get((int) ((s.endNanos() - t0) / w)).add(s);
    }
    List<Slice> slices = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      long start = t0 + i * w;
      slices.add(new Slice(i, start, i == n - 1 ? last : start + w, RequestTotals.of(members.get(i), slo)));
    }
    return List.copyOf(slices);
  }
}
