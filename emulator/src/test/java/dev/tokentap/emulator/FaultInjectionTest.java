package dev.tokentap.emulator;

import static dev.tokentap.emulator.ChatStreamingTest.dataLines;
import static dev.tokentap.emulator.TestClient.chatBody;
import static dev.tokentap.emulator.TestClient.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.SocketException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Each fault of {@link FaultSpec}, as a client sees it and as the emulator reports it. */
class FaultInjectionTest {

  private static final String STREAM_10 =
      chatBody(
          "faulty",
          Map.of(
              "stream",
              true,
              "max_tokens",
              10,
              "ignore_eos",
              true,
              "stream_options",
              Map.of("include_usage", true)));

  private static Emulator emulator;
  private static TestClient client;
  private static final Recorder finished = new Recorder();

  @BeforeAll
  static void start() throws Exception {
    emulator =
        Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
    emulator.addListener(finished);
    client = new TestClient(emulator.baseUri());
  }

  @AfterAll
  static void stop() {
    emulator.close();
  }

  @BeforeEach
  void clear() {
    finished
        .clear(); // each test also takes every report it causes, so none arrives late in the next
  }

  @Test
  void statusAnswersAtOnceWithAnOpenAiError() throws Exception {
    HttpResponse<String> res =
        client.post("/v1/chat/completions", STREAM_10, "x-emulator-fault", "status=503");

    assertThat(res.statusCode()).isEqualTo(503);
    JsonNode error = json(res.body()).path("error");
    assertThat(error.path("type").asText()).isEqualTo("server_error");
    assertThat(error.path("code").asInt()).isEqualTo(503);
    assertThat(res.headers().firstValue("retry-after")).isEmpty();
    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.finishReason()).isEqualTo("status_503");
    assertThat(r.completionTokens()).isZero();
  }

  @Test
  void status429SaysRetryAfter() throws Exception {
    HttpResponse<String> res =
        client.post("/v1/chat/completions", STREAM_10, "x-emulator-fault", "status=429");
    assertThat(res.statusCode()).isEqualTo(429);
    assertThat(res.headers().firstValue("retry-after")).hasValue("1");
    assertThat(finished.next(Duration.ofSeconds(2)).finishReason()).isEqualTo("status_429");
  }

  @Test
  void errorAfterSendsVllmErrorEventThenDone() throws Exception {
    HttpResponse<String> res =
        client.post("/v1/chat/completions", STREAM_10, "x-emulator-fault", "error-after=3");

    assertThat(res.statusCode()).isEqualTo(200);
    List<String> data = dataLines(res.body());
    assertThat(data).hasSize(1 + 3 + 2);
    assertThat(data.get(4))
        .isEqualTo(
            "{\"error\":{\"message\":\"emulated engine"
                + " failure\",\"type\":\"InternalServerError\",\"param\":null,\"code\":500}}");
    assertThat(data.get(5)).isEqualTo("[DONE]");
    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.finishReason()).isEqualTo("error");
    assertThat(r.completionTokens()).isEqualTo(3);
    // The connection stays usable: the chunked body was terminated properly.
    assertThat(client.post("/v1/chat/completions", STREAM_10).statusCode()).isEqualTo(200);
    assertThat(finished.next(Duration.ofSeconds(2)).finishReason()).isEqualTo("length");
  }

  @Test
  void errorAfterWithoutStreamIs500() throws Exception {
    HttpResponse<String> res =
        client.post(
            "/v1/chat/completions",
            chatBody("x", Map.of("max_tokens", 10, "ignore_eos", true)),
            "x-emulator-fault",
            "error-after=2");
    assertThat(res.statusCode()).isEqualTo(500);
    assertThat(json(res.body()).path("error").path("type").asText())
        .isEqualTo("InternalServerError");
    assertThat(finished.next(Duration.ofSeconds(2)).completionTokens()).isEqualTo(2);
  }

  @Test
  void resetAfterEndsTheConnectionWithRst() throws Exception {
    try (RawHttp raw = new RawHttp(emulator.baseUri())) {
      raw.post("/v1/chat/completions", STREAM_10, "x-emulator-fault", "reset-after=2");
      assertThatThrownBy(raw::readToEnd)
          .isInstanceOf(SocketException.class)
          .hasMessageContaining("reset");
      assertThat(raw.text()).doesNotContain("[DONE]");
    }
    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.finishReason()).isEqualTo("reset");
    assertThat(r.completionTokens()).isEqualTo(2);
  }

  @Test
  void closeAfterTruncatesTheStreamWithoutTheChunkedTerminator() throws Exception {
    String text;
    try (RawHttp raw = new RawHttp(emulator.baseUri())) {
      raw.post("/v1/chat/completions", STREAM_10, "x-emulator-fault", "close-after=2");
      text = raw.readToEnd(); // EOF, not a reset
    }
    assertThat(RawHttp.occurrences(text, "\"content\":\" ")).isEqualTo(2);
    assertThat(text).doesNotContain("[DONE]").doesNotEndWith("0\r\n\r\n");
    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.finishReason()).isEqualTo("closed");
    assertThat(r.completionTokens()).isEqualTo(2);
  }

  @Test
  void stallAfterPausesThenContinues() throws Exception {
    TestClient.Streamed s =
        client.stream("/v1/chat/completions", STREAM_10, "x-emulator-fault", "stall-after=3:300ms");

    List<TestClient.Event> tokens = s.textEvents();
    assertThat(tokens).hasSize(10);
    // The stall starts once the third token is out, so the fourth cannot leave before 300 ms after
    // the request: a hard bound whatever the scheduler does. The gap before it carries the stall,
    // less however late the third token reached the client on a busy machine.
    assertThat(tokens.get(3).nanos() - s.sentNanos())
        .isGreaterThanOrEqualTo(Duration.ofMillis(300).toNanos());
    long gap = tokens.get(3).nanos() - tokens.get(2).nanos();
    for (int i = 1; i < tokens.size(); i++) {
      if (i != 3) {
        assertThat(tokens.get(i).nanos() - tokens.get(i - 1).nanos()).isLessThan(gap);
      }
    }
    assertThat(gap).isGreaterThanOrEqualTo(Duration.ofMillis(200).toNanos());
    assertThat(s.events().get(s.events().size() - 1).isDone()).isTrue();
    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.finishReason()).isEqualTo("length");
    assertThat(r.completionTokens()).isEqualTo(10);
  }

  @Test
  void invalidFaultIs400NamingIt() throws Exception {
    HttpResponse<String> res =
        client.post("/v1/chat/completions", STREAM_10, "x-emulator-fault", "explode=1");
    assertThat(res.statusCode()).isEqualTo(400);
    assertThat(json(res.body()).path("error").path("message").asText())
        .startsWith("x-emulator-fault: explode=1 (expected: none | status=CODE");
  }

  @Test
  void configuredFaultAppliesToRequestsWithoutTheHeader() throws Exception {
    try (Emulator failing =
        Emulator.start(
            EmulatorSettings.defaults()
                .withPort(0)
                .withProfile(EngineProfile.fast())
                .withDefaultFault("status=502"))) {
      TestClient c = new TestClient(failing.baseUri());
      assertThat(c.post("/v1/chat/completions", STREAM_10).statusCode()).isEqualTo(502);
      assertThat(c.post("/v1/chat/completions", STREAM_10, "x-emulator-fault", "none").statusCode())
          .isEqualTo(200);
    }
  }
}
