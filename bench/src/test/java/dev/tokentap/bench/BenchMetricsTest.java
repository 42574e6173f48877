package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The bench's own meters ({@link BenchMetrics}) and the progress line ({@link BenchProgress}) over real runs. */
class BenchMetricsTest {
  private static Emulator emulator;

  @BeforeAll
  static void startEmulator() throws Exception {
    emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
  }

  @AfterAll
  static void stopEmulator() {
    emulator.close();
  }

  private static Workload synthetic() throws Exception {
    return Workloads.parse("synthetic:input=16,output=4", "m", 1);
  }

  @Test
  void theStepItsLoadAndEveryDispatchAreOnTheRegistryBesideTheRoleBenchSeries() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (Bench bench = new Bench(emulator.baseUri(), SloSpec.NONE, registry, Duration.ofSeconds(30), new BenchMetrics(registry))) {
      assertThat(registry.scrape()).contains("tokentap_bench_step 0.0", "tokentap_requests_in_flight{role=\"bench\",target=\"bench\"} 0.0");
      bench.run(new BenchRunner.Options(synthetic(), LoadPlan.open(ArrivalSchedule.Kind.CONSTANT, 50, 1, 8), 20, null, 0, 1));
      String first = registry.scrape();
      assertThat(first).contains("tokentap_bench_step 1.0", "tokentap_bench_target_rate 50.0", "tokentap_bench_target_concurrency 8.0",
          "tokentap_bench_schedule_lag_seconds_count 20",
          "tokentap_requests_total{model=\"m\",outcome=\"ok\",role=\"bench\",route=\"chat\",slo=\"none\",target=\"bench\"} 20.0");
      bench.run(new BenchRunner.Options(synthetic(), LoadPlan.closed(3), 9, null, 0, 1));
      assertThat(registry.scrape()).contains("tokentap_bench_step 2.0", "tokentap_bench_target_rate 0.0", "tokentap_bench_target_concurrency 3.0",
          // A closed loop has no schedule to lag behind.
          "tokentap_bench_schedule_lag_seconds_count 20",
          "tokentap_requests_total{model=\"m\",outcome=\"ok\",role=\"bench\",route=\"chat\",slo=\"none\",target=\"bench\"} 29.0");
    }
  }

  @Test
  void onATerminalTheProgressLineIsRewrittenInPlaceAndKeptAtTheStepsEnd() throws Exception {
    StringWriter err = new StringWriter();
    try (BenchProgress progress = new BenchProgress(new PrintWriter(err, true), Duration.ofMillis(50), true,
            new BenchProgress.Plan(1, false, Duration.ofMillis(600)));
        Bench bench = new Bench(emulator.baseUri(), SloSpec.NONE, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), Duration.ofSeconds(30), progress)) {
      bench.run(new BenchRunner.Options(synthetic(), LoadPlan.open(ArrivalSchedule.Kind.CONSTANT, 50, 1, 0), Long.MAX_VALUE, Duration.ofMillis(600), 0, 1));
    }
    String out = err.toString();
    assertThat(out).startsWith("\rstep 1/1 constant:50 | ").contains("\033[K\rstep 1/1 ");
    // The step's last state stays on its own line: 30 requests in 600 ms at 50/s, all done.
    String last = out.substring(out.lastIndexOf('\r') + 1);
    assertThat(last).startsWith("step 1/1 constant:50 | ").contains("/0.6s, total 0:0", "/0:00 | done 30, errors 0 | ", "| in flight 0 |")
        .endsWith("\033[K" + System.lineSeparator());
  }
}
