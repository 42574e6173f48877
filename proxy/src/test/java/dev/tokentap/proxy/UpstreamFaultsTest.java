package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.RawHttpClient;
import java.io.ByteArrayOutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The upstream misbehaves (down, refusing, resetting or closing mid-stream, an error event after
 * 200, a stall): the client gets a clear result, the record says what happened, and the proxy goes
 * on serving the next request.
 */
class UpstreamFaultsTest {
  static final String STREAM = "{\"model\":\"m\",\"stream\":true,\"max_tokens\":8,\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static Emulator emulator;
  static ProxyHarness proxy;

  @BeforeAll
  static void start() throws Exception {
    emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
    proxy = new ProxyHarness(emulator.baseUri().toString(),
        Map.of("tokentap.upstream.idle-timeout", "1s", "tokentap.upstream.response-head-timeout", "1500ms"));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    emulator.close();
  }

  /** After every fault the same proxy serves a normal streaming request in full. */
  @AfterEach
  void proxyKeepsServing() throws Exception {
    proxy.finished.clear();
    var response = proxy.post("/v1/chat/completions", STREAM);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new String(response.body(), StandardCharsets.UTF_8)).endsWith("data: [DONE]\n\n");
    assertThat(proxy.next().outcome()).isEqualTo(Outcome.OK);
  }

  RawHttpClient.Response streamWithFault(String fault) throws Exception {
    try (RawHttpClient c = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
      c.post("/v1/chat/completions", STREAM.replace("\"max_tokens\":8", "\"max_tokens\":20"), "x-emulator-fault: " + fault);
      RawHttpClient.Response head = c.readHead();
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      boolean complete = c.readBody(head, body);
      return new RawHttpClient.Response(head.status(), head.headers(), body.toByteArray(), complete);
    }
  }

  @Test
  void upstreamDownGives502NamingTheCause() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    try (ProxyHarness nowhere = new ProxyHarness("http://127.0.0.1:" + closedPort)) {
      for (int i = 0; i < 2; i++) {
        var response = nowhere.post("/v1/chat/completions", STREAM);
        assertThat(response.statusCode()).isEqualTo(502);
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(new String(response.body(), StandardCharsets.UTF_8))
            .contains("\"type\":\"upstream_unavailable\"", "cannot connect to upstream http://127.0.0.1:" + closedPort, "refused");
        FinishedRequest record = nowhere.next();
        assertThat(record.outcome()).isEqualTo(Outcome.ERROR);
        assertThat(record.status()).isEqualTo(502);
      }
    }
  }

  @Test
  void refusingUpstreamStatusIsPassedOn() throws Exception {
    RawHttpClient.Response r = streamWithFault("status=503");
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.bodyText()).contains("\"error\"");
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.ERROR);
    assertThat(record.status()).isEqualTo(503);
  }

  @Test
  void resetMidStreamIsPassedOnWithoutAFakeEnd() throws Exception {
    RawHttpClient.Response r = streamWithFault("reset-after=3");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.complete()).as("the client's stream is cut, not ended").isFalse();
    assertThat(r.bodyText()).doesNotContain("[DONE]");
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.UPSTREAM_ABORT);
    assertThat(record.meter().tokenEvents()).isBetween(1, 3);
    assertThat(record.ttftSeconds()).isPositive();
  }

  @Test
  void closeMidStreamIsAnUpstreamAbort() throws Exception {
    RawHttpClient.Response r = streamWithFault("close-after=2");
    assertThat(r.complete()).isFalse();
    assertThat(r.bodyText()).doesNotContain("[DONE]");
    assertThat(proxy.next().outcome()).isEqualTo(Outcome.UPSTREAM_ABORT);
  }

  @Test
  void errorEventAfter200IsAnErrorWithItsPartialTimings() throws Exception {
    RawHttpClient.Response r = streamWithFault("error-after=3");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.complete()).isTrue();
    assertThat(r.bodyText()).contains("\"error\"").endsWith("data: [DONE]\n\n");
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.ERROR);
    assertThat(record.meter().errorEvent()).isTrue();
    assertThat(record.meter().tokenEvents()).isEqualTo(3);
    assertThat(record.ttftSeconds()).isPositive();
  }

  @Test
  void noResponseHeadInTimeGives504() throws Exception {
    // A non-streaming answer is sent when generation ends; the stall holds it past the head timeout.
    var response = proxy.http.send(java.net.http.HttpRequest.newBuilder(proxy.url("/v1/chat/completions"))
        .header("x-emulator-fault", "stall-after=0:3s")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(STREAM.replace("\"stream\":true", "\"stream\":false"))).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(response.body()).contains("\"type\":\"upstream_timeout\"", "no response head within 1500 ms");
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.TIMEOUT);
    assertThat(record.status()).isEqualTo(504);
    assertThat(record.e2eSeconds()).isGreaterThanOrEqualTo(0.5).isLessThan(3);
  }

  @Test
  void stallPastTheIdleTimeoutCutsTheStream() throws Exception {
    RawHttpClient.Response r = streamWithFault("stall-after=2:3s");
    assertThat(r.complete()).isFalse();
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.TIMEOUT);
    assertThat(record.e2eSeconds()).isGreaterThanOrEqualTo(0.4).isLessThan(3);
  }
}
