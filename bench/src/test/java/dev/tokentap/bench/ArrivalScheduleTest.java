package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Arrival statistics of the precomputed schedule, with fixed seeds. */
class ArrivalScheduleTest {

  private static double[] gapsSeconds(ArrivalSchedule s) {
    double[] g = new double[s.size() - 1];
    for (int i = 1; i < s.size(); i++) {
      g[i - 1] = (s.offsetNanos(i) - s.offsetNanos(i - 1)) / 1e9;
    }
    return g;
  }

  private static double mean(double[] v) {
    double sum = 0;
    for (double x : v) {
      sum += x;
    }
    return sum / v.length;
  }

  private static double variance(double[] v) {
    double m = mean(v);
    double sq = 0;
    for (double x : v) {
      sq += (x - m) * (x - m);
    }
    return sq / (v.length - 1);
  }

  @Test
  void poissonGapsHaveMeanAndVarianceOfTheExponential() {
    double rate = 100;
    ArrivalSchedule s = ArrivalSchedule.generate(ArrivalSchedule.Kind.POISSON, rate, 1, 50_000, Long.MAX_VALUE, 42);
    double[] gaps = gapsSeconds(s);
    // Exponential(rate): mean 1/rate, variance 1/rate²; 50,000 gaps put both within a few percent.
    assertThat(mean(gaps)).isCloseTo(1 / rate, within(0.02 / rate));
    assertThat(variance(gaps)).isCloseTo(1 / (rate * rate), within(0.05 / (rate * rate)));
    // Counts in 1 s windows are Poisson(rate): variance ≈ mean (index of dispersion ≈ 1).
    int seconds = (int) (s.offsetNanos(s.size() - 1) / 1_000_000_000L);
    double[] counts = new double[seconds];
    for (int i = 0; i < s.size(); i++) {
      int w = (int) (s.offsetNanos(i) / 1_000_000_000L);
      if (w < seconds) {
        counts[w]++;
      }
    }
    assertThat(variance(counts) / mean(counts)).isCloseTo(1, within(0.2));
  }

  @Test
  void gammaBurstinessSetsTheCoefficientOfVariation() {
    double rate = 50;
    double burstiness = 0.25;
    ArrivalSchedule s = ArrivalSchedule.generate(ArrivalSchedule.Kind.GAMMA, rate, burstiness, 50_000, Long.MAX_VALUE, 7);
    double[] gaps = gapsSeconds(s);
    assertThat(mean(gaps)).isCloseTo(1 / rate, within(0.03 / rate));
    // gamma(k, θ): CV² = 1/k.
    double cv2 = variance(gaps) / (mean(gaps) * mean(gaps));
    assertThat(cv2).isCloseTo(1 / burstiness, within(0.1 / burstiness));
  }

  @Test
  void constantArrivalsAreExactMultiplesWithoutDrift() {
    ArrivalSchedule s = ArrivalSchedule.generate(ArrivalSchedule.Kind.CONSTANT, 3, 1, 300_001, Long.MAX_VALUE, 0);
    for (int i : new int[] {0, 1, 2, 3, 299_999, 300_000}) {
      assertThat(s.offsetNanos(i)).isEqualTo((long) (i / 3.0 * 1e9));
    }
  }

  @Test
  void durationBoundsTheScheduleAndTheSeedMakesItReproducible() {
    ArrivalSchedule a = ArrivalSchedule.generate(ArrivalSchedule.Kind.POISSON, 200, 1, Long.MAX_VALUE, 2_000_000_000L, 9);
    ArrivalSchedule b = ArrivalSchedule.generate(ArrivalSchedule.Kind.POISSON, 200, 1, Long.MAX_VALUE, 2_000_000_000L, 9);
    assertThat(a.size()).isEqualTo(b.size()).isBetween(300, 500);
    assertThat(a.offsetNanos(a.size() - 1)).isLessThan(2_000_000_000L).isEqualTo(b.offsetNanos(b.size() - 1));
  }

  @Test
  void badRatesAreRejected() {
    assertThatThrownBy(() -> ArrivalSchedule.generate(ArrivalSchedule.Kind.POISSON, 0, 1, 10, Long.MAX_VALUE, 0))
        .hasMessageContaining("rate: 0.0 (expected: > 0");
    assertThatThrownBy(() -> ArrivalSchedule.generate(ArrivalSchedule.Kind.GAMMA, 1, 0, 10, Long.MAX_VALUE, 0))
        .hasMessageContaining("burstiness");
    assertThatThrownBy(() -> ArrivalSchedule.generate(ArrivalSchedule.Kind.POISSON, 1, 1, Long.MAX_VALUE, Long.MAX_VALUE, 0))
        .hasMessageContaining("request count or a duration");
  }
}
