package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Capacity sizing from the knee of a real stage list, recomputed here from the knee step's numbers. */
class CapacityPlanTest {
  private static KneeFixture fixture;
  private static StepResults results;

  @BeforeAll
  static void run() throws Exception {
    fixture = new KneeFixture();
    results = fixture.stages();
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  @Test
  void replicasAndThresholdsFollowTheFormulas() {
    LoadStep knee = results.highestPassing();
    assertThat(knee.level()).isEqualTo(2);
    double kneeRps = knee.report().requestThroughput;
    CapacityPlan plan = CapacityPlan.size(results, CapacityPlan.Peak.parse("40rps"), 0.3);
    assertThat(plan.replicas()).isEqualTo((int) Math.ceil(40 * 1.3 / kneeRps));
    assertThat(plan.kneeInFlight()).isEqualTo(2);
    assertThat(plan.kneeInFlightSource()).isEqualTo("concurrency");
    assertThat(plan.inFlightPerReplica()).isEqualTo(1); // floor(2 / 1.3)
    assertThat(plan.targetSaturation()).isCloseTo(1 / 1.3, within(1e-12));
    assertThat(plan.toJson().path("replicas").asInt()).isEqualTo(plan.replicas());
    assertThat(plan.toJson().path("knee_concurrency").asDouble()).isEqualTo(2);

    double kneeTokens = knee.report().outputThroughput;
    CapacityPlan tokens = CapacityPlan.size(results, CapacityPlan.Peak.parse("5000tok/s"), 0);
    assertThat(tokens.replicas()).isEqualTo((int) Math.ceil(5000 / kneeTokens));
    assertThat(tokens.inFlightPerReplica()).isEqualTo(2);
  }

  @Test
  void littlesLawGivesTheInFlightOfARateKnee() {
    BenchReport r = results.highestPassing().report();
    double busy = r.measured().stream().mapToLong(s -> s.endNanos() - s.startNanos()).sum() / 1e9;
    assertThat(CapacityPlan.meanInFlight(r)).isCloseTo(busy / r.durationSeconds, within(1e-9));
    // A closed loop of 2 holds 2 in flight the whole time, a little less at the edges.
    assertThat(CapacityPlan.meanInFlight(r)).isBetween(1.0, 2.0);
  }

  @Test
  void theCurlLineNamesTheAdminTargetAndKnee() {
    java.io.StringWriter out = new java.io.StringWriter();
    CapacityPlan.printCurl(new java.io.PrintWriter(out), null, null, 16);
    assertThat(out.toString()).contains("curl -X PUT 'http://<admin>/admin/capacity?target=<name>&in-flight=16'");
    assertThat(CapacityPlan.capacityUrl("http://a:9464/", "prod a", 3)).isEqualTo("http://a:9464/admin/capacity?target=prod+a&in-flight=3");
  }

  @ParameterizedTest
  @ValueSource(strings = {"40", "fast rps", "-3rps", "0tok/s", "10qps"})
  void badPeaks(String spec) {
    assertThatThrownBy(() -> CapacityPlan.Peak.parse(spec)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--peak " + spec);
  }

  @Test
  void peaks() {
    assertThat(CapacityPlan.Peak.parse("40rps")).isEqualTo(new CapacityPlan.Peak(40, false));
    assertThat(CapacityPlan.Peak.parse("12.5 req/s")).isEqualTo(new CapacityPlan.Peak(12.5, false));
    assertThat(CapacityPlan.Peak.parse("5000TPS")).isEqualTo(new CapacityPlan.Peak(5000, true));
  }

  @Test
  void noKneeNoSizing() {
    StepResults none = new StepResults("stages", "concurrency", 0.9,
        results.steps().stream().map(s -> new LoadStep(s.index(), s.level(), false, s.report())).toList());
    assertThatThrownBy(() -> CapacityPlan.size(none, CapacityPlan.Peak.parse("1rps"), 0.3)).hasMessageContaining("no step met the SLOs");
    assertThatThrownBy(() -> CapacityPlan.size(results, CapacityPlan.Peak.parse("1rps"), -1)).hasMessageContaining("--headroom: -1.0");
  }
}
