package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** {@code --load stages:…}: the forms, one test per bad form, and per-stage warm-up kept out of the results. */
class StagesTest {

  @Test
  void stagesInheritTheKindAndTakeAWarmUp() {
    List<Stages.Stage> s = Stages.parse("stages:poisson:2@30s,4@5s+1m,gamma:8:0.5@10s", 16, Duration.ofSeconds(2));
    assertThat(s).hasSize(3);
    assertThat(s.get(0)).isEqualTo(new Stages.Stage(LoadPlan.open(ArrivalSchedule.Kind.POISSON, 2, 1, 16), Duration.ofSeconds(2), Duration.ofSeconds(30)));
    assertThat(s.get(1)).isEqualTo(new Stages.Stage(LoadPlan.open(ArrivalSchedule.Kind.POISSON, 4, 1, 16), Duration.ofSeconds(5), Duration.ofMinutes(1)));
    assertThat(s.get(2).load().arrivals()).isEqualTo(ArrivalSchedule.Kind.GAMMA);
    assertThat(Stages.parse("stages:concurrency:4@10s,8@10s", 0, null))
        .extracting(Stages.Stage::load).containsExactly(LoadPlan.closed(4), LoadPlan.closed(8));
    assertThat(Stages.isStages(" stages:concurrency:1@1s")).isTrue();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "stages: | expected: stages:LOAD@HOLD",
    "stages:poisson:2 | has no @HOLD",
    "stages:4@10s | the first stage names its kind",
    "stages:poisson:2@soon | 'soon' (expected: a positive duration",
    "stages:concurrency:2@1s,poisson:3@1s | stages mix rates and concurrencies",
    "stages:concurrency:2@1s,2.5@1s | concurrency 2.5 (expected: a whole number >= 1)",
    "stages:poisson:2@x+1s | (warm-up): 'x'",
    "stages:fast:2@1s | --load fast:2 (expected",
  })
  void badStages(String spec, String message) {
    assertThatThrownBy(() -> Stages.parse(spec, 0, null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
  }

  @Test
  void eachStageIsAStepAndItsWarmUpIsLeftOut() throws Exception {
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
        Bench bench = new Bench(emulator.baseUri(), SloSpec.parse("e2e=60s"), new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
      // Constant arrivals are i / rate exactly: at 50/s, 400 ms of warm-up are requests 0-19, and a
      // 1 s hold after it is requests 20-69, whatever the machine's speed.
      List<Stages.Stage> stages = Stages.parse("stages:constant:50@400ms+1s,100@200ms+500ms", 0, null);
      StepResults r = Stages.run(bench, Workloads.parse("synthetic:input=16,output=2", "m", 1), stages, 1, 0.9, null);
      assertThat(r.mode()).isEqualTo("stages");
      assertThat(r.kind()).isEqualTo("rate");
      assertThat(r.steps()).extracting(LoadStep::index).containsExactly(1, 2);
      BenchReport first = r.steps().get(0).report();
      assertThat(first.requests).isEqualTo(50);
      assertThat(first.measured()).extracting(BenchSample::index).allSatisfy(i -> assertThat(i).isBetween(20L, 69L));
      BenchReport second = r.steps().get(1).report();
      assertThat(second.requests).isEqualTo(50);
      assertThat(second.measured()).extracting(BenchSample::index).allSatisfy(i -> assertThat(i).isBetween(20L, 69L));
      assertThat(r.steps()).allSatisfy(s -> assertThat(s.passed()).isTrue());
      assertThat(r.highestPassing().level()).isEqualTo(100);
    }
  }

  @Test
  void aClosedLoopStageWarmsUpForItsWarmUpTime() throws Exception {
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
        Bench bench = new Bench(emulator.baseUri(), SloSpec.NONE, new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
      StepResults r = Stages.run(bench, Workloads.parse("synthetic:input=16,output=4", "m", 1),
          Stages.parse("stages:concurrency:2@300ms+300ms", 0, null), 1, Double.NaN, null);
      BenchReport report = r.steps().get(0).report();
      assertThat(report.requests).isPositive();
      // Warm-up requests were sent (the first measured index is above 0) and none is in the report.
      assertThat(report.measured()).noneMatch(BenchSample::warmup);
      assertThat(report.measured().stream().mapToLong(BenchSample::index).min().orElseThrow()).isPositive();
      assertThat(r.judged()).isFalse();
      assertThat(r.highestPassing()).isNull();
    }
  }
}
