package dev.tokentap.shadow;

import static dev.tokentap.shadow.ShadowHarness.CHAT;
import static dev.tokentap.shadow.ShadowHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.testkit.Fixtures;
import dev.tokentap.testkit.ScriptedUpstream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * DESIGN §6: a faulty staging replica never changes production's responses. For each fault,
 * production answers every request byte for byte as without the shadow, every copy's fate is
 * counted, and the breaker opens where staging fails. Production's latency with and without the
 * faulty shadow is printed (a benchmark figure, not an assertion).
 */
class ShadowIsolationTest {
  static final byte[] SSE = Fixtures.stream("openai-chat-usage.sse");
  static final int REQUESTS = 40;

  enum Fault { REFUSES_CONNECTIONS, NEVER_ANSWERS, TEN_TIMES_SLOWER, ANSWERS_500, RESETS_MID_STREAM }

  ScriptedUpstream production;
  final List<AutoCloseable> closeLater = new ArrayList<>();

  @BeforeEach
  void startProduction() throws Exception {
    production = new ScriptedUpstream(r -> ScriptedUpstream.Script.sse(SSE, new int[] {SSE.length / 3, 2 * SSE.length / 3}, 1000));
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeLater.size() - 1; i >= 0; i--) {
      closeLater.get(i).close();
    }
    production.close();
  }

  private String faultyStaging(Fault fault) throws Exception {
    switch (fault) {
      case REFUSES_CONNECTIONS -> {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
          port = s.getLocalPort();
        }
        return "http://127.0.0.1:" + port;
      }
      case NEVER_ANSWERS -> {
        ServerSocket s = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
        List<Socket> accepted = new ArrayList<>();
        Thread t = new Thread(() -> {
          try {
            while (true) {
              accepted.add(s.accept()); // read nothing, answer nothing
            }
          } catch (IOException closed) {
            // test over
          }
        });
        t.setDaemon(true);
        t.start();
        closeLater.add(() -> {
          s.close();
          for (Socket a : accepted) {
            a.close();
          }
        });
        return "http://127.0.0.1:" + s.getLocalPort();
      }
      case TEN_TIMES_SLOWER -> {
        return later(new ScriptedUpstream(r -> ScriptedUpstream.Script.sse(SSE, new int[] {SSE.length / 3, 2 * SSE.length / 3}, 10_000))).baseUrl();
      }
      case ANSWERS_500 -> {
        return later(new ScriptedUpstream(r -> new ScriptedUpstream.Script(500, "application/json", List.of("{\"error\":\"boom\"}".getBytes()), 0,
            ScriptedUpstream.Ending.COMPLETE))).baseUrl();
      }
      case RESETS_MID_STREAM -> {
        return later(new ScriptedUpstream(r -> ScriptedUpstream.Script.sse(SSE, new int[] {SSE.length / 2}, 1000).ending(ScriptedUpstream.Ending.RESET)))
            .baseUrl();
      }
      default -> throw new AssertionError(fault);
    }
  }

  private <T extends AutoCloseable> T later(T c) {
    closeLater.add(c);
    return c;
  }

  @ParameterizedTest
  @EnumSource(Fault.class)
  void productionIsUntouchedWhateverStagingDoes(Fault fault) throws Exception {
    byte[] expected;
    long baselineNanos;
    try (ShadowHarness plain = new ShadowHarness(production.baseUrl(), "[]")) {
      expected = plain.post("/v1/chat/completions", CHAT).body();
      baselineNanos = timeRequests(plain, expected);
    }
    String staging = faultyStaging(fault);
    ShadowHarness h =
        later(new ShadowHarness(production.baseUrl(),
            "[{ name = staging, upstream = \"" + staging + "\", factor = 1, connect-timeout = 500ms, first-byte-timeout = 300ms,"
                + " idle-timeout = 300ms, circuit-breaker { sliding-window = 10, minimum-calls = 5, open-duration = 60s } }]"));
    long shadowedNanos = timeRequests(h, expected);
    System.out.printf("staging %s: production mean latency %.2f ms with the faulty shadow, %.2f ms without (ratio %.2f)%n", fault,
        shadowedNanos / 1e6 / REQUESTS, baselineNanos / 1e6 / REQUESTS, (double) shadowedNanos / baselineNanos);

    int sent = REQUESTS;
    if (fault != Fault.TEN_TIMES_SLOWER) {
      // Copies to a staging that never answers fail only at the first-byte timeout: on a fast
      // machine the 40 requests can all leave before five have failed. Production goes on, every
      // response still checked, until the breaker has opened and turned a copy away.
      for (int extra = 0; extra < 400 && h.copies("staging", "dropped_circuit_open") == 0; extra++) {
        var response = h.post("/v1/chat/completions", CHAT);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(expected);
        sent++;
        Thread.sleep(5);
      }
    }
    int copies = sent;
    await("every copy accounted for", Duration.ofSeconds(15), () -> h.allCopies("staging") == copies);
    if (fault == Fault.TEN_TIMES_SLOWER) {
      assertThat(h.copies("staging", "sent")).isEqualTo(REQUESTS);
    } else {
      assertThat(h.copies("staging", "failed")).isGreaterThanOrEqualTo(5);
      assertThat(h.copies("staging", "dropped_circuit_open")).as("the breaker opened").isPositive();
      assertThat(h.engine.breakerState("staging")).isEqualTo("OPEN");
      assertThat(h.scrape()).contains("tokentap_shadow_circuit_breaker_state{state=\"open\",target=\"staging\"} 1.0",
          "tokentap_shadow_circuit_breaker_state{state=\"closed\",target=\"staging\"} 0.0");
    }
  }

  /** Sends the requests one after another, checking every body; returns the total time. */
  private static long timeRequests(ShadowHarness h, byte[] expected) throws Exception {
    long start = System.nanoTime();
    for (int i = 0; i < REQUESTS; i++) {
      var response = h.post("/v1/chat/completions", CHAT);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo(expected);
      if (i % 10 == 0) {
        Thread.sleep(20); // let copies fail so the breaker sees them
      }
    }
    return System.nanoTime() - start;
  }
}
