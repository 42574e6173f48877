package dev.tokentap.app.fleet;

import static dev.tokentap.app.fleet.FleetRig.await;
import static dev.tokentap.app.fleet.FleetRig.factor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.testkit.TestPrometheus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17's done-means with a real Prometheus: three production emulators each behind its own
 * tokentap (steady traffic 1 : 2 : 3 over them), one staging emulator, Prometheus scraping the three
 * sidecars every second, and the controller in static-list mode reading the fleet's rate and
 * staging's results from Prometheus. At k = 2 and 0.5 replicas staging receives k times the mean
 * replica's requests (counted at the staging emulator, within binomial bounds), and what Prometheus
 * reports of staging agrees. Prometheus gone, a rate share keeps its last good factor.
 */
@Timeout(90)
class FleetPrometheusTest {
  static final Duration WINDOW = Duration.ofSeconds(4); // four scrapes
  static final int[] PACE_MILLIS = {60, 30, 20};        // per replica: about 17, 33 and 50 requests/s

  @Test
  void stagingGetsKTimesTheMeanReplicaReadThroughPrometheus(@TempDir Path dir) throws Exception {
    try (FleetRig rig = new FleetRig(3, EmulatorSettings.defaults().withProfile(EngineProfile.fast()));
        TestPrometheus prometheus = TestPrometheus.scraping(dir, rig.adminPorts())) {
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger sent = new AtomicInteger();
      List<Thread> traffic = rig.steadyTraffic(PACE_MILLIS, FleetRig.CHAT, stop, sent);
      try {
        FleetPrometheus readings = new FleetPrometheus(prometheus.baseUri(), "job=\"tokentap\"", WINDOW, rig.http, Duration.ofSeconds(5));
        prometheus.await("count(rate(tokentap_requests_total{job=\"tokentap\",role=\"primary\"}[4s]) > 0)", 3, Duration.ofSeconds(30));

        for (double k : new double[] {2, 0.5}) {
          try (FleetShadowController controller = new FleetShadowController(SidecarSource.of(rig.admins()), readings, "staging",
              new FleetShare(FleetShare.Kind.REPLICAS, k, 16), Duration.ofSeconds(30))) {
            double perSidecar = k / 3;
            controller.reconcile();
            await("every sidecar at " + perSidecar, () -> rig.sidecars.stream().allMatch(s -> Math.abs(factor(s) - perSidecar) < 1e-9));
            int sentBefore = sent.get();
            int stagingBefore = rig.stagingSeen.get();
            long startNanos = System.nanoTime();
            Thread.sleep(WINDOW.toMillis() + 1500); // a window of scrapes, all at this factor
            int requests = sent.get() - sentBefore;
            int received = rig.stagingSeen.get() - stagingBefore;
            double sentRate = requests / ((System.nanoTime() - startNanos) / 1e9);
            // Copies still streaming at either end: a few requests at most, beside a binomial sd of 5 to 10.
            assertWithinBinomial("staging emulator", received, requests, perSidecar, 3);

            FleetShadowController.Round round = controller.reconcile();
            assertThat(round.sidecars()).isEqualTo(3);
            assertThat(round.factor()).isCloseTo(perSidecar, org.assertj.core.api.Assertions.within(1e-12));
            StagingResults staging = round.staging();
            assertThat(staging).as("staging's results from Prometheus").isNotNull();
            assertThat(round.fleetRate()).as("production requests/s from Prometheus against those sent").isBetween(0.7 * sentRate, 1.3 * sentRate);
            double seen = round.fleetRate() * WINDOW.toSeconds(); // production requests in the window, as Prometheus saw them
            assertWithinBinomial("staging per Prometheus", staging.requestRate() * WINDOW.toSeconds(), seen, perSidecar, 0.1 * seen * perSidecar);
            assertThat(staging.attainment()).as("the fast emulator meets the default SLOs").isGreaterThan(0.9);
            assertThat(staging.errorRate()).isZero();
            assertThat(staging.inFlight()).isPositive().isLessThan(10);
          }
        }

        // A rate share with Prometheus: 10 requests/s of the fleet's; then Prometheus goes away and the factor stays.
        FleetShadowController rate = new FleetShadowController(SidecarSource.of(rig.admins()), readings, "staging",
            new FleetShare(FleetShare.Kind.RATE, 10, 16), Duration.ofSeconds(30));
        FleetShadowController.Round good = rate.reconcile();
        assertThat(good.factor()).isCloseTo(10 / good.fleetRate(), org.assertj.core.api.Assertions.within(1e-9)).isBetween(0.02, 0.5);
        assertThatThrownBy(() -> new FleetPrometheus(prometheus.baseUri(), "job=\"nope\"", WINDOW, rig.http, Duration.ofSeconds(5)).productionRate())
            .hasMessageContaining("has no production series").hasMessageContaining("--prometheus-selector");
        prometheus.close();
        assertThatThrownBy(readings::productionRate).hasMessageContaining("is unreachable");
        FleetShadowController.Round kept = rate.reconcile();
        assertThat(kept.factor()).as("the last good factor, kept").isEqualTo(good.factor());
        assertThat(kept.fleetRate()).isNaN();
        assertThat(rig.sidecars).allSatisfy(s -> assertThat(factor(s)).isEqualTo(good.factor()));
        rate.close();
      } finally {
        stop.set(true);
        for (Thread t : traffic) {
          t.join(10_000);
        }
      }
    }
  }

  private static void assertWithinBinomial(String what, double received, double requests, double p, double slack) {
    double sd = Math.sqrt(requests * p * (1 - p));
    assertThat(received).as("%s: copies for %.0f requests at factor %.4f", what, requests, p)
        .isBetween(requests * p - 4 * sd - slack, requests * p + 4 * sd + slack);
  }
}
