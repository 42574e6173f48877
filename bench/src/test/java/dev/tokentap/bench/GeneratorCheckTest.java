package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The generator's self-check: its thresholds, its lag under a concurrency ceiling, and its report. */
class GeneratorCheckTest {

  private static double[] constant(int n, double v) {
    double[] a = new double[n];
    Arrays.fill(a, v);
    return a;
  }

  @Test
  void aPunctualGeneratorIsNotTheBottleneck() {
    GeneratorCheck c = GeneratorCheck.evaluate(constant(1000, 0.2), constant(5000, 0.1), 3, 1);
    assertThat(c.bottleneck()).isFalse();
    assertThat(c.toJson().path("bottleneck").asBoolean()).isFalse();
    assertThat(c.toJson().path("schedule_lag_p99_ms").asDouble()).isEqualTo(0.2);
    StringWriter out = new StringWriter();
    c.printWarning(new PrintWriter(out));
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void lagP99AboveTenMillisecondsIsFlagged() {
    double[] lag = constant(1000, 1);
    for (int i = 980; i < 1000; i++) {
      lag[i] = 20; // 2% at 20 ms: p99 is 20 ms, none over 50 ms
    }
    GeneratorCheck c = GeneratorCheck.evaluate(lag, constant(10, 0.1), 0, 0);
    assertThat(c.warnings()).singleElement().asString().startsWith("schedule lag p99 20.0 ms > 10 ms (max 20.0 ms)");
    StringWriter out = new StringWriter();
    c.printWarning(new PrintWriter(out));
    assertThat(out.toString()).contains("WARNING: the load generator, not the server, may be the bottleneck", "schedule lag p99 20.0 ms");
  }

  @Test
  void moreThanOnePercentOver50MillisecondsLateIsFlagged() {
    double[] lag = constant(1000, 0.5);
    for (int i = 0; i < 9; i++) {
      lag[i] = 80; // 0.9%: p99 stays low, the share is just under the limit
    }
    assertThat(GeneratorCheck.evaluate(lag, new double[0], 0, 0).bottleneck()).isFalse();
    lag[9] = 80;
    lag[10] = 80; // 1.1%
    GeneratorCheck c = GeneratorCheck.evaluate(lag, new double[0], 0, 0);
    assertThat(c.warnings()).anyMatch(w -> w.startsWith("1.1% of requests were sent more than 50 ms late"));
    assertThat(c.lateFraction()).isEqualTo(0.011);
  }

  @Test
  void jvmStallsAreFlaggedEvenForClosedLoops() {
    double[] hiccups = IntStream.range(0, 1000).mapToDouble(i -> i < 970 ? 0.05 : 30).toArray();
    GeneratorCheck c = GeneratorCheck.evaluate(new double[0], hiccups, 120, 4);
    assertThat(c.warnings()).singleElement().asString().contains("the JVM stalled: hiccup p99 30.0 ms", "GC 120 ms in 4 collections");
    assertThat(c.toJson().has("schedule_lag_p99_ms")).isFalse();
    assertThat(c.toJson().path("hiccup_max_ms").asDouble()).isEqualTo(30);
  }

  @Test
  void waitingForTheCeilingIsNotCountedAsGeneratorLag() throws Exception {
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
        Bench bench = new Bench(emulator.baseUri(), SloSpec.NONE, new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
      // 40 requests due within 40 ms, 2 at a time: the dispatcher waits on the ceiling, so the raw
      // schedule lag grows, but from the previous hand-off each request is dispatched at once.
      BenchReport report = bench.run(new BenchRunner.Options(Workloads.parse("synthetic:input=64,output=200", "m", 1),
          LoadPlan.open(ArrivalSchedule.Kind.CONSTANT, 1000, 1, 2), 40, null, 0, 1));
      List<BenchSample> samples = report.measured().stream().sorted(Comparator.comparingLong(BenchSample::index)).toList();
      double[] own = GeneratorCheck.generatorLagMs(samples, false, true);
      assertThat(own).hasSize(40);
      for (int i = 0; i < own.length; i++) {
        assertThat(own[i]).isLessThanOrEqualTo(samples.get(i).scheduleLagSeconds() * 1e3 + 1e-9);
      }
      double rawMax = samples.stream().mapToDouble(BenchSample::scheduleLagSeconds).max().orElseThrow() * 1e3;
      assertThat(Arrays.stream(own).max().orElseThrow()).isLessThan(rawMax);
      assertThat(report.generator.scheduleLagMs().count()).isEqualTo(40);
      // The monitor ran for the whole run.
      assertThat(report.generator.hiccupMs().count()).isPositive();
      assertThat(report.toJson().path("generator").has("hiccup_p99_ms")).isTrue();
      assertThat(report.toJson().path("generator").has("bottleneck")).isTrue();
    }
  }

  @Test
  void closedLoopsHaveNoScheduleLag() {
    assertThat(GeneratorCheck.generatorLagMs(List.of(), true, false)).isEmpty();
  }
}
