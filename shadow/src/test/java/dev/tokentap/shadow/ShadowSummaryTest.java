package dev.tokentap.shadow;

import static dev.tokentap.shadow.ShadowHarness.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.regex.Pattern;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /admin/shadow/summary} against real emulators: production's side agrees with what the
 * client measured, and the shadow side shows what is different about each staging server.
 */
class ShadowSummaryTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Pattern FIRST_CONTENT = Pattern.compile("\"content\":\"[^\"]");
  static final int REQUESTS = 30;
  static final String BODY =
      "{\"model\":\"m1\",\"stream\":true,\"max_tokens\":24,\"messages\":[{\"role\":\"user\",\"content\":\"tell me a story\"}]}";

  @Test
  void productionAndEachTargetSideBySide() throws Exception {
    // Production and "slow" always run to max_tokens (finish_reason length); "slow" steps three
    // times slower. "brief" stops early on its own (finish_reason stop, fewer tokens).
    EngineProfile base = EngineProfile.fast().withBaseStep(Duration.ofMillis(2));
    EmulatorSettings longAnswers = EmulatorSettings.defaults().withPort(0).withMeanOutputTokens(1_000_000);
    try (Emulator prod = Emulator.start(longAnswers.withProfile(base));
        Emulator slow = Emulator.start(longAnswers.withProfile(base.withBaseStep(Duration.ofMillis(6))));
        Emulator brief = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(base).withMeanOutputTokens(3));
        ShadowHarness h = new ShadowHarness(prod.baseUri().toString(),
            "[{ name = slow, upstream = \"" + slow.baseUri() + "\", factor = 1, spread-window = 0s },"
                + " { name = brief, upstream = \"" + brief.baseUri() + "\", factor = 1, spread-window = 0s }]")) {
      double[] clientTtft = new double[REQUESTS];
      double[] clientE2e = new double[REQUESTS];
      for (int i = 0; i < REQUESTS; i++) {
        double[] measured = streamTimed(h);
        clientTtft[i] = measured[0];
        clientE2e[i] = measured[1];
      }
      await("every copy answered", Duration.ofSeconds(30), () -> h.copies("slow", "sent") == REQUESTS && h.copies("brief", "sent") == REQUESTS);

      JsonNode summary = summary(h, "");
      assertThat(summary.get("window_seconds").asDouble()).isEqualTo(300.0);
      JsonNode slowNode = target(summary, "slow");
      JsonNode production = slowNode.get("production");
      assertThat(production.get("requests").asInt()).isEqualTo(REQUESTS);
      assertThat(production.get("truncated").asBoolean()).isFalse();
      assertThat(production.get("error_rate").asDouble()).isZero();
      assertThat(production.get("output_tokens_mean").asDouble()).isEqualTo(24.0);
      assertThat(production.get("finish_reasons").get("length").asDouble()).isEqualTo(1.0);
      // The proxy's view of production agrees with the client's (nearest-rank medians, ms). The
      // client's clock also holds its own write and read scheduling: a few ms on a busy 2-core machine.
      double ttft = median(clientTtft);
      double e2e = median(clientE2e);
      assertThat(production.get("ttft_ms").get("p50").asDouble()).isCloseTo(ttft, within(Math.max(3.0, 0.3 * ttft)));
      assertThat(production.get("e2e_ms").get("p50").asDouble()).isCloseTo(e2e, within(Math.max(3.0, 0.1 * e2e)));
      assertThat(production.get("ttft_ms").get("p99").asDouble()).isGreaterThanOrEqualTo(production.get("ttft_ms").get("p50").asDouble());

      JsonNode slowSide = slowNode.get("shadow");
      assertThat(slowSide.get("requests").asInt()).isEqualTo(REQUESTS);
      assertThat(slowSide.get("output_tokens_mean").asDouble()).isEqualTo(24.0);
      JsonNode ratios = slowNode.get("shadow_to_production");
      assertThat(ratios.get("request_rate").asDouble()).isCloseTo(1.0, within(0.01));
      assertThat(ratios.get("output_tokens").asDouble()).isEqualTo(1.0);
      assertThat(ratios.get("tpot_p50").asDouble()).isBetween(2.0, 4.0); // 6 ms steps against 2 ms
      assertThat(ratios.get("e2e_p50").asDouble()).isBetween(2.0, 4.0);
      assertThat(slowNode.get("finish_reason_agreement").asDouble()).isEqualTo(1.0);

      JsonNode briefNode = target(summary, "brief");
      JsonNode briefSide = briefNode.get("shadow");
      double stopShare = briefSide.get("finish_reasons").path("stop").asDouble(0);
      assertThat(stopShare).isGreaterThan(0.5);
      // production always stops at the length limit: the distributions overlap only on "length"
      assertThat(briefNode.get("finish_reason_agreement").asDouble()).isCloseTo(1 - stopShare, within(1e-3));
      assertThat(briefNode.get("shadow_to_production").get("output_tokens").asDouble()).isLessThan(0.5);
      assertThat(briefNode.get("circuit_breaker").asText()).isEqualTo("CLOSED");
      assertThat(briefNode.get("factor").asDouble()).isEqualTo(1.0);

      Thread.sleep(1100);
      JsonNode recent = target(summary(h, "?window=1s"), "slow");
      assertThat(recent.get("production").get("requests").asInt()).isZero();
      assertThat(recent.get("production").get("ttft_ms").get("p50").isNull()).isTrue();
      assertThat(recent.get("shadow_to_production").get("request_rate").isNull()).isTrue();

      assertThat(admin(h, "?window=forever").statusCode()).isEqualTo(400);
      assertThat(admin(h, "?window=1h").statusCode()).isEqualTo(400); // longer than summary.window
    }
  }

  /**
   * Client-side truth, read at the socket (an HTTP library's buffering would lag the bytes): ms to
   * the first chunk with content, and to {@code [DONE]}.
   */
  private static double[] streamTimed(ShadowHarness h) throws Exception {
    byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
    String head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
    try (Socket socket = new Socket("127.0.0.1", h.tokentap.proxyAddress().getPort())) {
      socket.setTcpNoDelay(true);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      long start = System.nanoTime();
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      StringBuilder seen = new StringBuilder();
      byte[] buffer = new byte[16384];
      long first = -1;
      int n;
      while ((n = in.read(buffer)) > 0) {
        seen.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
        if (first < 0 && FIRST_CONTENT.matcher(seen).find()) {
          first = System.nanoTime();
        }
        if (seen.indexOf("data: [DONE]") >= 0) {
          long end = System.nanoTime();
          assertThat(seen.toString()).startsWith("HTTP/1.1 200");
          assertThat(first).isPositive();
          return new double[] {(first - start) / 1e6, (end - start) / 1e6};
        }
      }
      throw new AssertionError("stream ended without [DONE]: " + seen);
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[(int) Math.ceil(0.5 * sorted.length) - 1];
  }

  static JsonNode target(JsonNode summary, String name) {
    for (JsonNode t : summary.get("targets")) {
      if (t.get("target").asText().equals(name)) {
        return t;
      }
    }
    throw new AssertionError("no target " + name + " in " + summary);
  }

  static JsonNode summary(ShadowHarness h, String query) throws Exception {
    HttpResponse<String> response = admin(h, query);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return JSON.readTree(response.body());
  }

  private static HttpResponse<String> admin(ShadowHarness h, String query) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + h.tokentap.adminAddress().getPort() + "/admin/shadow/summary" + query);
    return h.http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
  }
}
