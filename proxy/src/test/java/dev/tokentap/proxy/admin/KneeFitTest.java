package dev.tokentap.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The knee fit on counts alone: isotonic attainment, the crossing of the goal and its bounds. */
class KneeFitTest {

  @Test
  void aSharpStepIsFoundBetweenTheLastPassingAndTheFirstFailingCount() {
    List<KneeFit.Point> points = new ArrayList<>();
    for (long c = 1; c <= 30; c++) {
      points.add(new KneeFit.Point(c, 200, c <= 23 ? 200 : 0));
    }
    KneeFit.Result r = KneeFit.fit(points, 0.9, 20);
    assertThat(r.kneeSeen()).isTrue();
    assertThat(r.estimate()).isBetween(23.0, 24.0);
    assertThat(r.lower()).isBetween(22.5, r.estimate());
    assertThat(r.upper()).isBetween(r.estimate(), 24.5);
  }

  @Test
  void aGradualDeclineIsInterpolatedToItsGoalCrossing() {
    // Attainment falls linearly from 1 at 40 to 0 at 60: it crosses 0.9 at 42.
    List<KneeFit.Point> points = new ArrayList<>();
    for (long c = 1; c <= 70; c++) {
      double p = c <= 40 ? 1 : c >= 60 ? 0 : 1 - (c - 40) / 20.0;
      points.add(new KneeFit.Point(c, 1000, (int) Math.round(1000 * p)));
    }
    KneeFit.Result r = KneeFit.fit(points, 0.9, 20);
    assertThat(r.estimate()).isCloseTo(42.0, within(0.5)).isLessThanOrEqualTo(42.0);
    assertThat(r.upper() - r.lower()).isLessThan(2.0);
  }

  @Test
  void noisyEvidenceIsPooledMonotoneAndWidensTheBounds() {
    Random random = new Random(3);
    List<KneeFit.Point> points = new ArrayList<>();
    for (long c = 1; c <= 60; c++) {
      double p = c <= 30 ? 0.97 : 0.3;
      int n = 25;
      int met = 0;
      for (int i = 0; i < n; i++) {
        met += random.nextDouble() < p ? 1 : 0;
      }
      points.add(new KneeFit.Point(c, n, met));
    }
    KneeFit.Result r = KneeFit.fit(points, 0.9, 20);
    double previous = 1;
    for (KneeFit.Bin b : r.bins()) {
      assertThat(b.fitted()).isLessThanOrEqualTo(previous);
      previous = b.fitted();
    }
    assertThat(r.kneeSeen()).isTrue();
    assertThat(r.estimate()).isBetween(24.0, 31.0);
    assertThat(r.lower()).isLessThanOrEqualTo(r.estimate());
    assertThat(r.upper()).isGreaterThanOrEqualTo(r.estimate());
  }

  @Test
  void thinEvidenceErrsLow() {
    // The same step, seen with 20 requests a count instead of 2,000: the estimate moves down, not up.
    KneeFit.Result thick = KneeFit.fit(step(2000), 0.9, 20);
    KneeFit.Result thin = KneeFit.fit(step(20), 0.9, 20);
    assertThat(thin.estimate()).isLessThan(thick.estimate());
    assertThat(thin.upper() - thin.lower()).isGreaterThan(thick.upper() - thick.lower());
  }

  @Test
  void withoutAFailingCountTheEstimateIsALowerBound() {
    List<KneeFit.Point> points = List.of(new KneeFit.Point(3, 50, 50), new KneeFit.Point(5, 50, 49), new KneeFit.Point(7, 5, 0));
    KneeFit.Result r = KneeFit.fit(points, 0.9, 20);
    assertThat(r.kneeSeen()).isFalse();
    assertThat(r.estimate()).as("the thin top count is not judged").isEqualTo(5.0);
    assertThat(r.upper()).isNaN();
    assertThat(KneeFit.fit(List.of(), 0.9, 20).estimate()).isNaN();
    assertThat(KneeFit.fit(List.of(new KneeFit.Point(4, 10, 10)), 0.9, 20).estimate()).as("too few to judge").isNaN();
  }

  private static List<KneeFit.Point> step(int n) {
    List<KneeFit.Point> points = new ArrayList<>();
    for (long c = 10; c <= 20; c++) {
      points.add(new KneeFit.Point(c, n, c <= 15 ? n : 0));
    }
    return points;
  }
}
