package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.emulator.EmulatedRequest;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.FixedTiming;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The socket-lateness self-check: when it calls lateness material, and that it sees a cold start,
 * which the dispatcher's schedule lag cannot; and that after the default warm-up the bench's TTFT
 * matches the server's own, against an emulator whose timing is fixed. Surefire gives this class a
 * JVM of its own, so its first run is as cold as a fresh {@code tokentap bench}.
 */
class SocketLatenessTest {
  /** A server whose timing is known: first token 80 ms after the request, then one every 12 ms. */
  @RegisterExtension static final EmulatorExtension EMULATOR =
      new EmulatorExtension(EmulatorSettings.defaults().withFixedTiming(new FixedTiming(Duration.ofMillis(80), Duration.ofMillis(12))));

  /** Issue 15: the bench's TTFT p99 within 5 ms of the server's own. */
  static final double TTFT_P99_BOUND_MS = 5;

  /**
   * Room for a busy machine, per millisecond that it added to the server's own TTFT p99. The
   * emulator's timing is exact, so whatever its p99 has over 80 ms is the machine's doing (this JVM
   * runs the emulator and the bench, other builds share the cores), and the same starvation delays
   * the bench's threads on the way out and back. On a shared 2-core machine at load averages of 7
   * to 11: server p99 88-107 ms, the bench 9-29 ms over it; on a quiet machine the emulator is
   * within a millisecond of 80 ms and the bound stays near 5 ms.
   */
  static final double MACHINE_ALLOWANCE = 3;

  @Test
  void materialMeansP99AboveATenthOfTtftP50AndAboveTheFloor() {
    double[] lateness = new double[100];
    Arrays.fill(lateness, 0.2);
    lateness[99] = 30; // p99 interpolates between 0.2 and 30: about 0.5 ms
    assertThat(SocketLateness.judge(lateness, 80).late()).isFalse();
    assertThat(SocketLateness.judge(lateness, 80).limitMs()).isEqualTo(8);
    Arrays.fill(lateness, 90, 100, 9.0); // a tenth of the requests 9 ms late: p99 9 ms > 8 ms
    SocketLateness late = SocketLateness.judge(lateness, 80);
    assertThat(late.late()).isTrue();
    assertThat(late.reason()).contains("p99 9.0 ms", "> 8.0 ms", "10% of TTFT p50 80.0 ms");
    // A short TTFT: the 1 ms floor, not a tenth of it, is the limit.
    assertThat(SocketLateness.judge(new double[] {0.5, 0.6, 0.9}, 2).late()).isFalse();
    assertThat(SocketLateness.judge(new double[] {0.5, 0.6, 1.5}, 2).late()).isTrue();
    // No TTFT measured (every request failed): 5 ms.
    assertThat(SocketLateness.judge(new double[] {4}, Double.NaN).late()).isFalse();
    assertThat(SocketLateness.judge(new double[] {6}, Double.NaN).late()).isTrue();
    assertThat(SocketLateness.judge(new double[0], 80).late()).isFalse();
  }

  @Test
  void aColdRunWithoutWarmupIsFlaggedAndAfterTheDefaultWarmupTtftMatchesTheServers(@TempDir Path dir) throws Exception {
    LoadPlan load = LoadPlan.open(ArrivalSchedule.Kind.POISSON, 50, 1, 0);
    Queue<EmulatedRequest> served = new ConcurrentLinkedQueue<>();
    EMULATOR.emulator().addListener(served::add);
    BenchReport cold;
    BenchReport warm;
    try (Bench bench = new Bench(EMULATOR.baseUri(), SloSpec.NONE, new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
      Workload work = Workloads.parse("synthetic:input=16,output=8", "m", 3);
      // The first requests of this JVM: classes loaded, connections opened, code interpreted.
      cold = bench.run(BenchWarmup.parse("0").options(work, load, 60, null, 3));
      // Four seconds at 50/s after the default warm-up (the whole test stays under 15 s).
      warm = bench.run(BenchWarmup.parse(null).options(work, load, 200, null, 4));
    }
    assertThat(cold.warmupRequests).isZero();
    assertThat(cold.generator.lateness().ms().count()).isEqualTo(60);
    // Every request is due when the schedule says, so lateness starts at the intended time.
    assertThat(cold.measured()).allSatisfy(s -> assertThat(s.record().sentNanos()).isGreaterThanOrEqualTo(s.startNanos()));
    assertThat(cold.generator.late()).as("cold run lateness %s", cold.generator.lateness()).isTrue();

    StepResults results = new StepResults("run", "rate", Double.NaN, java.util.List.of(new LoadStep(1, 50, false, cold)));
    results.write(dir, null, null);
    JsonNode json = new ObjectMapper().readTree(dir.resolve("result.json").toFile());
    assertThat(json.get("generator_late").asBoolean()).isTrue();
    assertThat(json.get("generator_late_reason").asText()).startsWith("requests reached the socket late");
    assertThat(json.path("generator").get("late").asBoolean()).isTrue();
    assertThat(json.path("generator").get("socket_lateness_max_ms").asDouble()).isEqualTo(cold.generator.lateness().maxMs());
    assertThat(Files.readString(dir.resolve("report.html"))).contains("id=\"generator-late\"", "Generator late: requests reached the socket late");
    StringWriter console = new StringWriter();
    cold.printTable(new PrintWriter(console));
    assertThat(console.toString()).contains("Lateness at the socket:", "!! WARNING: generator late: requests reached the socket late");

    // The default warm-up: five seconds of the same schedule, about 250 requests, left out.
    assertThat(warm.warmupRequests).isGreaterThan(150);
    assertThat(warm.requests).isEqualTo(200);
    // Not a speed assertion: the first cold request's class loading and connection set-up are gone.
    assertThat(warm.generator.lateness().maxMs()).isLessThan(cold.generator.lateness().maxMs());

    // The warm run's TTFT against the server's own for the same requests: those that reached the
    // emulator (same JVM, same clock) once the first measured request was due.
    double serverP99 = serverTtftP99Ms(served, warm);
    double benchP99 = warm.ttftMs.p99();
    System.out.printf("TTFT p99: bench %.2f ms, server %.2f ms (cold run: bench %.2f ms, server %.2f ms)%n",
        benchP99, serverP99, cold.ttftMs.p99(), serverTtftP99Ms(served, cold));
    assertThat(serverP99).as("the server's own TTFT p99 (ms)").isGreaterThanOrEqualTo(80);
    double bound = TTFT_P99_BOUND_MS + MACHINE_ALLOWANCE * (serverP99 - 80);
    assertThat(benchP99).as("the bench's TTFT p99 against the server's %.2f ms (bound %.2f ms)", serverP99, bound)
        .isBetween(serverP99, serverP99 + bound);
  }

  private static double serverTtftP99Ms(Queue<EmulatedRequest> served, BenchReport run) {
    long from = run.measured().stream().mapToLong(BenchSample::startNanos).min().orElseThrow();
    long to = run.measured().stream().mapToLong(BenchSample::endNanos).max().orElseThrow();
    double[] ttft = served.stream()
        .filter(r -> r.arrivalNanos() - from >= 0 && to - r.arrivalNanos() >= 0 && r.firstTokenNanos() >= 0)
        .mapToDouble(r -> (r.firstTokenNanos() - r.arrivalNanos()) / 1e6)
        .sorted()
        .toArray();
    assertThat(ttft.length).as("server records in the run").isBetween(run.requests - 5, run.requests + 5);
    return Stats.percentileOfSorted(ttft, 99);
  }
}
