package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code --load ramp:…}: the levels each form expands to, one test per bad form, and a short run through the stage runner. */
class RampTest {

  private static List<Double> levels(String spec, int maxConcurrency) {
    return Ramp.parse(spec, maxConcurrency, null).stream().map(s -> s.load().level()).toList();
  }

  @Test
  void linearRampsStepInDecimalUpToTo() {
    assertThat(levels("ramp:poisson:10..100:+10@30s", 0)).containsExactly(10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0);
    // Summed in decimal: no 0.30000000000000004.
    assertThat(levels("ramp:constant:0.1..0.5:+0.1@1s", 0)).containsExactly(0.1, 0.2, 0.3, 0.4, 0.5);
    // TO is the last level only when the steps land on it.
    assertThat(levels("ramp:concurrency:2..9:+3@1s", 0)).containsExactly(2.0, 5.0, 8.0);
    assertThat(levels("ramp:concurrency:4..4:+1@1s", 0)).containsExactly(4.0);
  }

  @Test
  void exponentialRampsMultiply() {
    assertThat(levels("ramp:concurrency:1..64:x2@30s", 0)).containsExactly(1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0);
    assertThat(levels("ramp:concurrency:1..100:x2@30s", 0)).containsExactly(1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0);
    // Whole concurrencies: rounded, repeats dropped (1, 1.5, 2.25, 3.375, 5.06, 7.59, 11.4).
    assertThat(levels("ramp:concurrency:1..16:x1.5@1s", 0)).containsExactly(1.0, 2.0, 3.0, 5.0, 8.0, 11.0);
    // Rates keep six significant digits.
    assertThat(levels("ramp:poisson:1..3:x1.1@1s", 0)).startsWith(1.0, 1.1, 1.21, 1.331, 1.4641, 1.61051, 1.77156);
  }

  @Test
  void eachLevelIsAStageWithTheLoadsKindWarmUpAndHold() {
    List<Stages.Stage> s = Ramp.parse("ramp:gamma:2..6:0.5:+2@5s+30s", 16, Duration.ofSeconds(3));
    assertThat(s).containsExactly(
        new Stages.Stage(LoadPlan.open(ArrivalSchedule.Kind.GAMMA, 2, 0.5, 16), Duration.ofSeconds(5), Duration.ofSeconds(30)),
        new Stages.Stage(LoadPlan.open(ArrivalSchedule.Kind.GAMMA, 4, 0.5, 16), Duration.ofSeconds(5), Duration.ofSeconds(30)),
        new Stages.Stage(LoadPlan.open(ArrivalSchedule.Kind.GAMMA, 6, 0.5, 16), Duration.ofSeconds(5), Duration.ofSeconds(30)));
    // Without WARMUP+ the default warm-up (--stage-warmup) applies.
    assertThat(Ramp.parse("ramp:concurrency:1..2:+1@1m", 0, Duration.ofSeconds(3)))
        .containsExactly(new Stages.Stage(LoadPlan.closed(1), Duration.ofSeconds(3), Duration.ofMinutes(1)),
            new Stages.Stage(LoadPlan.closed(2), Duration.ofSeconds(3), Duration.ofMinutes(1)));
    assertThat(Ramp.isRamp(" ramp:concurrency:1..2:+1@1s")).isTrue();
    assertThat(Ramp.isRamp("stages:concurrency:1@1s")).isFalse();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "ramp:poisson:1..10:+1 | no @HOLD",
    "ramp:poisson@1s | no :+STEP or :xFACTOR",
    "ramp:poisson:10:+1@1s | not a range FROM..TO",
    "ramp:poisson:10..:+1@1s | TO '' is not a number",
    "ramp:poisson:a..10:+1@1s | FROM 'a' is not a number",
    "ramp:poisson:10..1:+1@1s | range 10..1 (expected: 0 < FROM <= TO)",
    "ramp:poisson:0..10:+1@1s | (expected: 0 < FROM <= TO)",
    "ramp:poisson:1..10:+0@1s | step +0 (expected: > 0)",
    "ramp:poisson:1..10:x1@1s | factor x1 (expected: > 1)",
    "ramp:poisson:1..10:*2@1s | growth '*2' (expected: +STEP for linear or xFACTOR for exponential)",
    "ramp:concurrency:1..10:+0.5@1s | concurrency step +0.5 (expected: a whole number)",
    "ramp:concurrency:1.5..10:x2@1s | concurrency 1.5 (expected: a whole number)",
    "ramp:poisson:1..1000:+1@1s | more than 100 steps",
    "ramp:fast:1..10:+1@1s | --load fast:1 (expected: concurrency:N",
    "ramp:poisson:1..10:+1@soon | 'soon' (expected: a positive duration",
    "ramp:poisson:1..10:+1@x+1s | (warm-up): 'x'",
  })
  void badRamps(String spec, String message) {
    assertThatThrownBy(() -> Ramp.parse(spec, 0, null)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--load " + spec).hasMessageContaining(message);
  }

  @Test
  void aRampRunsThroughTheStageRunnerOneStepPerLevel() throws Exception {
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
        Bench bench = new Bench(emulator.baseUri(), SloSpec.parse("e2e=60s"), new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
      // Constant arrivals are i / rate exactly: 200 ms of warm-up at 50/s are 10 requests, a 400 ms hold 20 more.
      List<Stages.Stage> ramp = Ramp.parse("ramp:constant:50..150:x2@200ms+400ms", 0, null);
      StepResults r = Stages.run(bench, Workloads.parse("synthetic:input=16,output=2", "m", 1), ramp, 1, 0.9, null);
      assertThat(r.mode()).isEqualTo("stages");
      assertThat(r.steps()).extracting(LoadStep::level).containsExactly(50.0, 100.0);
      assertThat(r.steps()).extracting(s -> s.report().requests).containsExactly(20, 40);
      assertThat(r.steps()).allSatisfy(s -> assertThat(s.report().measured()).noneMatch(BenchSample::warmup));
      assertThat(r.highestPassing().level()).isEqualTo(100);
    }
  }
}
