package dev.tokentap.emulator;

import static dev.tokentap.emulator.TestClient.chatBody;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The continuous-batching timing model as clients feel it. Wall-clock numbers are compared with
 * each other or bounded from below by the model, never asserted tightly: the machine may be busy.
 */
class EngineTimingTest {

  @Test
  void timeToFirstTokenAndTimePerOutputTokenGrowWithConcurrency() throws Exception {
    try (Emulator emulator =
        Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()))) {
      TestClient client = new TestClient(emulator.baseUri());
      // ~2,000 prompt tokens each: 64 of them need 16 chunked-prefill steps of 8,192 tokens.
      String body =
          chatBody("w".repeat(8000), Map.of("stream", true, "max_tokens", 32, "ignore_eos", true));
      run(client, body, 64, 64); // warm-up: JIT, and 64 kept-alive connections

      List<TestClient.Streamed> solo = run(client, body, 1, 8);
      List<TestClient.Streamed> crowd = run(client, body, 64, 64);

      double soloTtft = mean(solo, TestClient.Streamed::timeToFirstTokenNanos);
      double crowdTtft = mean(crowd, TestClient.Streamed::timeToFirstTokenNanos);
      double soloTpot = mean(solo, TestClient.Streamed::timePerOutputTokenNanos);
      double crowdTpot = mean(crowd, TestClient.Streamed::timePerOutputTokenNanos);
      System.out.printf(
          "mean TTFT 1: %.2f ms, 64: %.2f ms; mean TPOT 1: %.3f ms, 64: %.3f ms%n",
          soloTtft / 1e6, crowdTtft / 1e6, soloTpot / 1e6, crowdTpot / 1e6);
      assertThat(crowdTtft).as("mean TTFT, 64 concurrent vs 1 (ns)").isGreaterThan(soloTtft * 2);
      assertThat(crowdTpot).as("mean TPOT, 64 concurrent vs 1 (ns)").isGreaterThan(soloTpot);
    }
  }

  @Test
  void stepsRunInRealTimeAtTheModelledPace() throws Exception {
    EngineProfile twoMs =
        EngineProfile.fast().withBaseStep(Duration.ofMillis(2)).withPerSequenceStep(Duration.ZERO);
    try (Emulator emulator =
        Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(twoMs))) {
      Recorder finished = new Recorder();
      emulator.addListener(finished);
      new TestClient(emulator.baseUri())
          .post(
              "/v1/completions",
              "{\"prompt\":\"pace\",\"max_tokens\":51,\"ignore_eos\":true,\"stream\":true}");
      EmulatedRequest r = finished.next(Duration.ofSeconds(2));
      double tpot = (r.lastTokenNanos() - r.firstTokenNanos()) / 50.0;
      // Tokens are stamped when handed to the connection's event loop; one late first hand-off on a
      // busy 2-core machine shortens the span, so the lower bound leaves 10% for that.
      assertThat(tpot)
          .isBetween(Duration.ofMillis(2).toNanos() * 0.9, Duration.ofMillis(6).toNanos() * 1.0);
    }
  }

  @Test
  void kvBudgetMakesRequestsWait() throws Exception {
    // Each request reserves ceil(5 / 4) + 4 + 2 + 100 = 108 tokens: three fit in 350, the rest
    // queue.
    EngineProfile small =
        EngineProfile.fast().withBaseStep(Duration.ofMillis(1)).withKvCacheTokens(350);
    try (Emulator emulator =
        Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(small))) {
      Recorder finished = new Recorder();
      emulator.addListener(finished);
      TestClient client = new TestClient(emulator.baseUri());
      String body = chatBody("queue", Map.of("max_tokens", 100, "ignore_eos", true));
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<?>> calls = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          calls.add(pool.submit(() -> client.post("/v1/chat/completions", body)));
        }
        int maxWaiting = 0;
        int maxRunning = 0;
        double maxUsage = 0;
        String metricsWhileWaiting = null;
        while (finished.all.size() < 8) {
          EngineStats s = emulator.stats();
          maxWaiting = Math.max(maxWaiting, s.waiting());
          maxRunning = Math.max(maxRunning, s.running());
          maxUsage = Math.max(maxUsage, s.kvCacheUsage());
          if (s.waiting() > 0 && metricsWhileWaiting == null) {
            metricsWhileWaiting = client.get("/metrics").body();
          }
          Thread.sleep(1);
        }
        for (Future<?> f : calls) {
          f.get();
        }
        assertThat(maxWaiting).isGreaterThan(0);
        assertThat(maxRunning).isEqualTo(3);
        assertThat(maxUsage).isCloseTo(3 * 108 / 350.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(metricsWhileWaiting)
            .containsPattern("\nvllm:num_requests_waiting\\{[^}]*} [1-9]");
        // Queueing shows as time to first token: the last admitted waited for earlier rounds of 100
        // steps.
        long slowest =
            finished.all.stream()
                .mapToLong(r -> r.firstTokenNanos() - r.arrivalNanos())
                .max()
                .orElseThrow();
        assertThat(slowest).isGreaterThanOrEqualTo(Duration.ofMillis(150).toNanos());
        assertThat(emulator.stats().requestsTotal()).isEqualTo(8);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void maxNumSeqsCapsTheBatch() throws Exception {
    EngineProfile two = EngineProfile.fast().withBaseStep(Duration.ofMillis(1)).withMaxNumSeqs(2);
    try (Emulator emulator =
        Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(two))) {
      TestClient client = new TestClient(emulator.baseUri());
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<?>> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          calls.add(
              pool.submit(
                  () ->
                      client.post(
                          "/v1/completions",
                          "{\"prompt\":\"cap\",\"max_tokens\":50,\"ignore_eos\":true}")));
        }
        int maxRunning = 0;
        int maxWaiting = 0;
        while (!calls.stream().allMatch(Future::isDone)) {
          maxRunning = Math.max(maxRunning, emulator.stats().running());
          maxWaiting = Math.max(maxWaiting, emulator.stats().waiting());
          Thread.sleep(1);
        }
        assertThat(maxRunning).isEqualTo(2);
        assertThat(maxWaiting).isGreaterThan(0);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  private static List<TestClient.Streamed> run(
      TestClient client, String body, int concurrency, int total) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    try {
      List<TestClient.Streamed> out = new ArrayList<>();
      for (int done = 0; done < total; done += concurrency) {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<TestClient.Streamed>> round = new ArrayList<>();
        for (int i = 0; i < concurrency; i++) {
          round.add(
              pool.submit(
                  () -> {
                    go.await();
                    return client.stream("/v1/chat/completions", body);
                  }));
        }
        go.countDown();
        for (Future<TestClient.Streamed> f : round) {
          TestClient.Streamed s = f.get();
          assertThat(s.status()).isEqualTo(200);
          assertThat(s.textEvents()).hasSize(32);
          out.add(s);
        }
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  private static double mean(
      List<TestClient.Streamed> runs, java.util.function.ToDoubleFunction<TestClient.Streamed> f) {
    return runs.stream().mapToDouble(f).average().orElseThrow();
  }
}
