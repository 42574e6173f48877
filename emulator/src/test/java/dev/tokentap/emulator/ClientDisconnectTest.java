package dev.tokentap.emulator;

import static dev.tokentap.emulator.TestClient.chatBody;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The emulator sees a client's disconnect within 100 ms and stops generating (DESIGN §6). */
class ClientDisconnectTest {

  private static Emulator emulator;
  private static final Recorder finished = new Recorder();

  @BeforeAll
  static void start() throws Exception {
    // 5 ms steps: a long request streams for a while, and a stopped one is easy to tell apart.
    emulator =
        Emulator.start(
            EmulatorSettings.defaults()
                .withPort(0)
                .withProfile(EngineProfile.fast().withBaseStep(Duration.ofMillis(5))));
    emulator.addListener(finished);
  }

  @AfterAll
  static void stop() {
    emulator.close();
  }

  @BeforeEach
  void clear() {
    finished.clear();
  }

  @Test
  void disconnectMidStreamIsSeenWithin100msAndGenerationStops() throws Exception {
    long closedAt;
    try (RawHttp raw = new RawHttp(emulator.baseUri())) {
      raw.post(
          "/v1/chat/completions",
          chatBody(
              "a long answer", Map.of("stream", true, "max_tokens", 10_000, "ignore_eos", true)));
      raw.readUntil("\"content\":\" ", 5);
      closedAt = System.nanoTime();
    }

    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.finishReason()).isEqualTo("cancelled");
    assertThat(r.disconnectNanos() - closedAt).isBetween(0L, Duration.ofMillis(100).toNanos());
    assertThat(r.completionTokens()).isBetween(5, 100);
    assertThat(emulator.stats().cancelledTotal()).isEqualTo(1);

    // The engine drops the sequence at its next step (5 ms) and generates nothing more for it.
    awaitStats(emulator, s -> s.running() == 0 && s.kvCacheUsage() == 0);
    assertThat(System.nanoTime() - closedAt).isLessThan(Duration.ofMillis(100).toNanos());
    long generated = generationTokens();
    Thread.sleep(100);
    assertThat(generationTokens()).isEqualTo(generated);
  }

  @Test
  void disconnectWhileQueuedFreesTheQueueToo() throws Exception {
    try (Emulator small =
        Emulator.start(
            EmulatorSettings.defaults()
                .withPort(0)
                .withProfile(
                    EngineProfile.fast().withBaseStep(Duration.ofMillis(2)).withMaxNumSeqs(1)))) {
      Recorder done = new Recorder();
      small.addListener(done);
      try (RawHttp first = new RawHttp(small.baseUri());
          RawHttp second = new RawHttp(small.baseUri())) {
        first.post(
            "/v1/completions",
            "{\"prompt\":\"a\",\"max_tokens\":10000,\"ignore_eos\":true,\"stream\":true}");
        first.readUntil("\"text\":", 2);
        second.post("/v1/completions", "{\"prompt\":\"b\",\"max_tokens\":5,\"stream\":true}");
        awaitStats(small, s -> s.waiting() == 1);
        second.close();
        EmulatedRequest queued = done.next(Duration.ofSeconds(2));
        assertThat(queued.finishReason()).isEqualTo("cancelled");
        assertThat(queued.firstTokenNanos()).isEqualTo(-1);
        awaitStats(small, s -> s.waiting() == 0 && s.running() == 1);
      }
      assertThat(done.next(Duration.ofSeconds(2)).finishReason()).isEqualTo("cancelled");
      awaitStats(small, s -> s.running() == 0);
    }
  }

  static void awaitStats(Emulator e, java.util.function.Predicate<EngineStats> condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    while (!condition.test(e.stats())) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("stats never matched: " + e.stats());
      }
      Thread.sleep(1);
    }
  }

  private static long generationTokens() throws Exception {
    String text = new TestClient(emulator.baseUri()).get("/metrics").body();
    for (String line : text.split("\n")) {
      if (line.startsWith("vllm:generation_tokens_total{")) {
        return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError("no vllm:generation_tokens_total");
  }
}
