package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokentap.emulator.EmulatedRequest;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.meter.Outcome;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code --cancel RATIO@DELAY} through real sockets: the emulator sees the chosen requests' clients
 * go away about DELAY after they arrived, and nobody else's; the bench counts them apart from
 * completions and failures and leaves them out of the latencies.
 */
class CancellationTest {
  /** Requests stream 60 tokens at 5 ms a step, 300 ms at least: well past the delay. */
  private static final Duration DELAY = Duration.ofMillis(100);
  private static Emulator emulator;
  private static final ConcurrentLinkedQueue<EmulatedRequest> seen = new ConcurrentLinkedQueue<>();

  @BeforeAll
  static void start() throws Exception {
    emulator = Emulator.start(EmulatorSettings.defaults().withPort(0)
        .withProfile(EngineProfile.fast().withBaseStep(Duration.ofMillis(5))));
    emulator.addListener(seen::add);
  }

  @AfterAll
  static void stop() {
    emulator.close();
  }

  @BeforeEach
  void clear() {
    seen.clear();
  }

  @Test
  void anOpenLoopAbandonsTheChosenShareAfterTheDelayAndTheEmulatorSeesIt() throws Exception {
    check(LoadPlan.parse("poisson:25", 0), 60, 11);
  }

  @Test
  void aClosedLoopToo() throws Exception {
    check(LoadPlan.closed(4), 40, 5);
  }

  private static void check(LoadPlan load, int requests, long seed) throws Exception {
    Cancellation cancel = Cancellation.parse("0.3@100ms");
    BenchSetup setup = new BenchSetup(List.of(emulator.baseUri()), TargetPolicy.ROUND_ROBIN, cancel, null);
    long abortsBefore = emulator.stats().cancelledTotal();
    BenchReport report;
    try (Bench bench = new Bench(setup, SloSpec.parse("e2e=60s"), new SimpleMeterRegistry(), Duration.ofSeconds(30), BenchListener.NONE)) {
      report = bench.run(new BenchRunner.Options(
          Workloads.parse("synthetic:input=32,output=60", "bench-model", seed), load, requests, null, 0, seed));
    }
    // The choice is the seeded one, request by request.
    long chosen = LongStream.range(0, requests).filter(i -> cancel.chosen(seed, i)).count();
    assertThat(report.measured()).allSatisfy(s -> {
      assertThat(s.cancelled()).as("request %d", s.index()).isEqualTo(cancel.chosen(seed, s.index()));
      assertThat(s.record().outcome()).isIn(Outcome.OK, Outcome.CLIENT_ABORT);
    });
    // About the ratio: 30% of the requests, within 4 binomial standard deviations.
    double sd = Math.sqrt(requests * 0.3 * 0.7);
    assertThat((double) chosen).isBetween(requests * 0.3 - 4 * sd, requests * 0.3 + 4 * sd).isPositive();
    assertThat(report.cancelled).isEqualTo(chosen);
    assertThat(report.completed).isEqualTo(requests - chosen);
    assertThat(report.failed).isZero();
    assertThat(report.errors).isEmpty();
    // Completed requests only in the latencies; attainment over the requests not cancelled.
    assertThat(report.ttftMs.count()).isEqualTo(report.completed);
    assertThat(report.e2elMs.count()).isEqualTo(report.completed);
    assertThat(report.sloAttainment).isEqualTo(1.0);
    // Cancelled on the client DELAY after the hand-off (its clock starts at or before it).
    assertThat(report.measured().stream().filter(BenchSample::cancelled))
        .allSatisfy(s -> assertThat(s.endNanos() - s.sendNanos()).isGreaterThanOrEqualTo(DELAY.toNanos()));

    // The emulator: as many client aborts as the bench counted, about DELAY after each arrived.
    List<EmulatedRequest> server = awaitSeen(requests);
    List<EmulatedRequest> aborted = server.stream().filter(r -> r.finishReason().equals("cancelled")).toList();
    assertThat(aborted).hasSize((int) chosen);
    // Its own counter (vllm:request_success_total{finished_reason="abort"} on /metrics) agrees.
    assertThat(emulator.stats().cancelledTotal() - abortsBefore).isEqualTo(chosen);
    assertThat(server.stream().filter(r -> r.finishReason().equals("length") || r.finishReason().equals("stop")))
        .hasSize(report.completed);
    double[] afterArrival = aborted.stream().mapToDouble(r -> (r.disconnectNanos() - r.arrivalNanos()) / 1e6).toArray();
    // Arrival comes a little after the hand-off, so the gap is a little under DELAY; loose for a busy machine.
    assertThat(Arrays.stream(afterArrival).min().orElseThrow()).isNotNegative();
    assertThat(Arrays.stream(afterArrival).max().orElseThrow()).isLessThan(100.0 + 400);
    assertThat(Stats.of(afterArrival).p50()).isBetween(60.0, 200.0);
    assertThat(aborted).allSatisfy(r -> assertThat(r.completionTokens()).isLessThan(60));

    JsonNode json = report.toJson();
    assertThat(json.path("cancelled").asInt()).isEqualTo(chosen);
    assertThat(json.path("cancelled_ratio").asDouble()).isEqualTo((double) chosen / requests);
    assertThat(json.path("cancel").path("ratio").asDouble()).isEqualTo(0.3);
    assertThat(json.path("cancel").path("delay_ms").asInt()).isEqualTo(100);
    assertThat(json.path("completed").asInt()).isEqualTo(report.completed);
    assertThat(json.path("failed").asInt()).isZero();
    // A cancellation is not a failure: the run passes the default failure gate.
    StepResults results = new StepResults("run", "rate", Double.NaN, List.of(new LoadStep(1, load.level(), false, report)));
    assertThat(FailureGate.verdict(results, FailureGate.DEFAULT_MAX_FAILURE_RATIO)).isNull();
  }

  private static List<EmulatedRequest> awaitSeen(int n) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (seen.size() < n && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    return List.copyOf(seen);
  }

  @Test
  void badSpecsNameTheOptionAndWhatIsExpected() {
    assertThatThrownBy(() -> Cancellation.parse("0.1")).hasMessageContaining("--cancel 0.1 (expected: RATIO@DELAY");
    assertThatThrownBy(() -> Cancellation.parse("1.5@2s")).hasMessageContaining("ratio '1.5' (expected: 0 < RATIO <= 1");
    assertThatThrownBy(() -> Cancellation.parse("0@2s")).hasMessageContaining("expected: 0 < RATIO <= 1");
    assertThatThrownBy(() -> Cancellation.parse("0.1@soon")).hasMessageContaining("--cancel 0.1@soon: delay").hasMessageContaining("500ms");
    assertThat(Cancellation.parse("0.1@2s").delay()).isEqualTo(Duration.ofSeconds(2));
    assertThat(Cancellation.parse(null).enabled()).isFalse();
  }
}
