package dev.tokentap.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The copy counts and departure times, checked statistically with a fixed seed. */
class CopyPlannerTest {
  private static final int N = 20_000;

  @ParameterizedTest
  @ValueSource(doubles = {0, 0.1, 1, 2.5, 4})
  void copiesAreFactorTimesRequestsWithinThreeSigma(double factor) {
    CopyPlanner planner = new CopyPlanner(factor, 0);
    Random random = new Random(42);
    long total = 0;
    for (int i = 0; i < N; i++) {
      int copies = planner.copies(random.nextDouble());
      assertThat(copies).isBetween((int) Math.floor(factor), (int) Math.ceil(factor));
      total += copies;
    }
    double frac = factor - Math.floor(factor);
    double sigma = Math.sqrt(N * frac * (1 - frac));
    assertThat((double) total).isCloseTo(factor * N, within(3 * sigma + 1e-9));
  }

  @Test
  void firstCopyLeavesWithTheOriginalOthersUniformlyOverTheWindow() {
    long window = 1_000_000_000L;
    CopyPlanner planner = new CopyPlanner(2, window);
    Random random = new Random(7);
    assertThat(planner.delayNanos(1, random)).isZero();
    double[] u = new double[N];
    for (int i = 0; i < N; i++) {
      long d = planner.delayNanos(2, random);
      assertThat(d).isBetween(0L, window - 1);
      u[i] = d / (double) window;
    }
    Arrays.sort(u);
    double ks = 0;
    for (int i = 0; i < N; i++) {
      ks = Math.max(ks, Math.max(Math.abs(u[i] - (double) i / N), Math.abs(u[i] - (double) (i + 1) / N)));
    }
    // Kolmogorov-Smirnov against U(0,1) at the 1% level.
    assertThat(ks).isLessThan(1.63 / Math.sqrt(N));
  }

  /**
   * Production arriving as a Poisson process of rate λ: the copies staging receives look like a
   * Poisson process of rate k·λ (coefficient of variation of the gaps near 1, twins no more common
   * than in a Poisson process).
   */
  @ParameterizedTest
  @ValueSource(doubles = {1, 2.5, 4})
  void copiesArriveAsAPoissonProcessOfKTimesTheRate(double factor) {
    double lambda = 20; // production requests per second
    long window = 5_000_000_000L; // 100 production gaps
    CopyPlanner planner = new CopyPlanner(factor, window);
    Random random = new Random(1234);
    List<Long> departures = new ArrayList<>();
    double t = 0;
    int requests = 4000;
    for (int i = 0; i < requests; i++) {
      t += -Math.log(1 - random.nextDouble()) / lambda;
      long at = (long) (t * 1e9);
      int copies = planner.copies(random.nextDouble());
      for (int c = 1; c <= copies; c++) {
        departures.add(at + planner.delayNanos(c, random));
      }
    }
    long[] times = departures.stream().mapToLong(Long::longValue).sorted().toArray();
    // Away from the edges (the first window fills up, the last one drains).
    int from = 0;
    while (times[from] < window) {
      from++;
    }
    long end = (long) (t * 1e9);
    int to = times.length;
    while (times[to - 1] > end) {
      to--;
    }
    int gaps = to - from - 1;
    double mean = 0;
    double sq = 0;
    int twins = 0;
    long twinNanos = 1_000_000; // 1 ms
    for (int i = from + 1; i < to; i++) {
      double g = times[i] - times[i - 1];
      mean += g;
      sq += g * g;
      if (g < twinNanos) {
        twins++;
      }
    }
    mean /= gaps;
    double cv = Math.sqrt(sq / gaps - mean * mean) / mean;
    double rate = 1e9 / mean;
    assertThat(rate).as("staging arrival rate").isCloseTo(factor * lambda, within(0.1 * factor * lambda));
    assertThat(cv).as("coefficient of variation of inter-arrival times").isBetween(0.9, 1.1);
    double expectedTwins = gaps * (1 - Math.exp(-factor * lambda * twinNanos / 1e9));
    assertThat((double) twins).as("gaps under 1 ms").isLessThan(expectedTwins + 4 * Math.sqrt(expectedTwins) + 3);
  }

  @Test
  void consistentSamplingKeepsAKeyInOrOut() {
    assertThat(CopyPlanner.unitOf("user-1")).isEqualTo(CopyPlanner.unitOf("user-1"));
    CopyPlanner planner = new CopyPlanner(0.1, 0);
    int in = 0;
    for (int i = 0; i < N; i++) {
      double u = CopyPlanner.unitOf("user-" + i);
      assertThat(u).isBetween(0.0, 1.0);
      in += planner.copies(u);
    }
    assertThat((double) in).isCloseTo(0.1 * N, within(3 * Math.sqrt(N * 0.09)));
  }
}
