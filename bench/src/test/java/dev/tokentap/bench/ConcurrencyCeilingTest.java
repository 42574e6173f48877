package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.emulator.EmulatedRequest;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A Poisson rate under {@code --max-concurrency}, as vLLM's {@code --request-rate} with {@code
 * --max-concurrency}: the server never has more than N of the bench's requests at once, and the
 * time a request waited for the ceiling is inside its TTFT and E2E. The emulator runs in this JVM,
 * so its times and the bench's are on the same clock.
 */
class ConcurrencyCeilingTest {
  private static final int CEILING = 3;
  private static Emulator emulator;
  private static final ConcurrentLinkedQueue<EmulatedRequest> seen = new ConcurrentLinkedQueue<>();

  @BeforeAll
  static void start() throws Exception {
    // 50 tokens at 2 ms a step: about 100 ms a request, so 3 at a time serve about 30 req/s.
    emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast().withBaseStep(Duration.ofMillis(2))));
    emulator.addListener(seen::add);
  }

  @AfterAll
  static void stop() {
    emulator.close();
  }

  @Test
  void aPoissonRateAboveWhatTheCeilingServesNeverPutsMoreThanNOnTheServerAndTheWaitCountsInLatency() throws Exception {
    int requests = 60;
    BenchReport report;
    try (Bench bench = new Bench(emulator.baseUri(), SloSpec.NONE, new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
      report = bench.run(new BenchRunner.Options(Workloads.parse("synthetic:input=32,output=50", "bench-model", 2),
          LoadPlan.parse("poisson:100", CEILING), requests, null, 0, 2));
    }
    assertThat(report.completed).isEqualTo(requests);
    assertThat(report.toJson().path("max_concurrency").asInt()).isEqualTo(CEILING);
    assertThat(report.toJson().path("request_rate").asInt()).isEqualTo(100);
    // The client: never more than N handed over at once, and N reached.
    assertThat(report.measured()).allSatisfy(s -> assertThat(s.inFlightAtSend()).isBetween(1, CEILING));
    assertThat(report.toJson().path("max_in_flight").asInt()).isEqualTo(CEILING);

    // The server: its requests, from arrival to last token, never overlap more than N deep.
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (seen.size() < requests && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    List<EmulatedRequest> server = List.copyOf(seen);
    assertThat(server).hasSize(requests);
    assertThat(RunTimeline.deepest(server.stream().mapToLong(EmulatedRequest::arrivalNanos).toArray(),
        server.stream().mapToLong(EmulatedRequest::lastTokenNanos).toArray())).isEqualTo(CEILING);

    // Offered 100 req/s, served about 30: requests queue on the client, and the wait is in latency.
    assertThat(report.queueMs.p50()).isGreaterThan(50.0);
    assertThat(report.measured()).allSatisfy(s -> {
      assertThat(s.record().ttftSeconds()).isGreaterThan(s.queueSeconds());
      assertThat(s.record().e2eSeconds()).isGreaterThan(s.queueSeconds());
    });
    // Per request, the bench's TTFT less its wait is the hand-off to the first token read, which
    // contains the server's arrival to first token written: so on average too.
    double benchTtftLessWait = report.measured().stream().mapToDouble(s -> (s.record().ttftSeconds() - s.queueSeconds()) * 1e3).average().orElseThrow();
    double serverTtft = server.stream().mapToDouble(r -> (r.firstTokenNanos() - r.arrivalNanos()) / 1e6).average().orElseThrow();
    assertThat(benchTtftLessWait).isGreaterThanOrEqualTo(serverTtft);
    assertThat(report.ttftMs.mean()).isGreaterThan(serverTtft + report.queueMs.mean() * 0.99);
  }
}
