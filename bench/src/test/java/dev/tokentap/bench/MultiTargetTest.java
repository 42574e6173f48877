package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokentap.emulator.EmulatedRequest;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Several targets in one run, through real sockets to two emulators, one eight times slower per
 * token than the other: round robin splits the requests evenly, least-in-flight sends most to the
 * faster, and the report's per-target parts are each computed from that target's own records.
 */
class MultiTargetTest {
  private static Emulator fast;
  private static Emulator slow;
  private static final ConcurrentLinkedQueue<EmulatedRequest> atFast = new ConcurrentLinkedQueue<>();
  private static final ConcurrentLinkedQueue<EmulatedRequest> atSlow = new ConcurrentLinkedQueue<>();

  @BeforeAll
  static void start() throws Exception {
    fast = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast().withBaseStep(Duration.ofMillis(1))));
    slow = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast().withBaseStep(Duration.ofMillis(8))));
    fast.addListener(atFast::add);
    slow.addListener(atSlow::add);
  }

  @AfterAll
  static void stop() {
    fast.close();
    slow.close();
  }

  @BeforeEach
  void clear() {
    atFast.clear();
    atSlow.clear();
  }

  private static BenchReport run(TargetPolicy policy, int requests) throws Exception {
    BenchSetup setup = new BenchSetup(List.of(fast.baseUri(), slow.baseUri()), policy, Cancellation.NONE, null);
    try (Bench bench = new Bench(setup, SloSpec.NONE, new SimpleMeterRegistry(), Duration.ofSeconds(30), BenchListener.NONE)) {
      return bench.run(new BenchRunner.Options(
          Workloads.parse("synthetic:input=32,output=20", "bench-model", 1), LoadPlan.closed(4), requests, null, 0, 1));
    }
  }

  @Test
  void roundRobinSplitsEvenlyAndEachTargetHasItsOwnNumbers() throws Exception {
    BenchReport report = run(TargetPolicy.ROUND_ROBIN, 40);
    assertThat(report.completed).isEqualTo(40);
    List<RequestTotals> parts = report.perTarget();
    assertThat(parts).extracting(p -> p.requests).containsExactly(20, 20);
    awaitSeen(40);
    assertThat(atFast).hasSize(20);
    assertThat(atSlow).hasSize(20);

    JsonNode json = report.toJson();
    assertThat(json.path("target_policy").asText()).isEqualTo("round-robin");
    JsonNode perTarget = json.path("per_target");
    assertThat(perTarget).hasSize(2);
    assertThat(perTarget.get(0).path("target").asText()).isEqualTo(fast.baseUri().toString());
    assertThat(perTarget.get(1).path("target").asText()).isEqualTo(slow.baseUri().toString());
    long outputTokens = 0;
    for (int t = 0; t < 2; t++) {
      int target = t;
      List<BenchSample> own = report.measured().stream().filter(s -> s.target() == target).toList();
      JsonNode n = perTarget.get(t);
      assertThat(n.path("requests").asInt()).isEqualTo(own.size());
      assertThat(n.path("completed").asInt()).isEqualTo(own.size());
      double[] tpot = own.stream().mapToDouble(s -> s.record().tpotSeconds() * 1e3).toArray();
      assertThat(n.path("p50_tpot_ms").asDouble()).isEqualTo(Stats.of(tpot).p50());
      assertThat(n.path("p99_tpot_ms").asDouble()).isEqualTo(Stats.of(tpot).p99());
      outputTokens += n.path("total_output_tokens").asLong();
    }
    // The parts add up to the whole; the slower server shows in its own TPOT.
    assertThat(outputTokens).isEqualTo(report.totalOutputTokens);
    assertThat(perTarget.get(1).path("p50_tpot_ms").asDouble()).isGreaterThan(perTarget.get(0).path("p50_tpot_ms").asDouble());
    // The console and the HTML report show the parts too.
    StringWriter console = new StringWriter();
    report.printTable(new PrintWriter(console));
    assertThat(console.toString()).contains("Per target (round-robin):", fast.baseUri() + " ", slow.baseUri() + " ", "20 req");
    String html = RunHtmlReport.render(report, null);
    assertThat(html.substring(html.indexOf("id=\"per-target\""))).contains(fast.baseUri().toString(), slow.baseUri().toString());
  }

  @Test
  void leastInFlightPrefersTheFasterTarget() throws Exception {
    BenchReport report = run(TargetPolicy.LEAST_IN_FLIGHT, 60);
    assertThat(report.completed).isEqualTo(60);
    List<RequestTotals> parts = report.perTarget();
    int toFast = parts.get(0).requests;
    int toSlow = parts.get(1).requests;
    assertThat(toFast + toSlow).isEqualTo(60);
    // The slow target holds its requests 8 times as long, so it is rarely the least busy; at
    // least twice as many go to the fast one (round robin would split them evenly).
    assertThat(toFast).as("fast %d, slow %d", toFast, toSlow).isGreaterThan(2 * toSlow);
    assertThat(toSlow).isPositive();
    awaitSeen(60);
    assertThat(atFast).hasSize(toFast);
    assertThat(atSlow).hasSize(toSlow);
  }

  @Test
  void policiesParseAndBadOnesAreNamed() {
    assertThat(TargetPolicy.parse("least-in-flight")).isEqualTo(TargetPolicy.LEAST_IN_FLIGHT);
    assertThat(TargetPolicy.parse("Round-Robin")).isEqualTo(TargetPolicy.ROUND_ROBIN);
    assertThatThrownBy(() -> TargetPolicy.parse("random"))
        .hasMessage("--target-policy random (expected: round-robin or least-in-flight)");
  }

  private static void awaitSeen(int n) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (atFast.size() + atSlow.size() < n && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
  }
}
