package dev.tokentap.emulator;

import static dev.tokentap.emulator.NamedEvents.body;
import static dev.tokentap.emulator.NamedEvents.keys;
import static dev.tokentap.emulator.TestClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code /v1/messages} framed as the Anthropic Messages API (wire-formats §7). */
class AnthropicMessagesTest {

  private static final String[] HEADERS = {"anthropic-version", "2023-06-01", "x-api-key", "any"};

  private static Emulator emulator;
  private static TestClient client;
  private static final Recorder finished = new Recorder();

  @BeforeAll
  static void start() throws Exception {
    emulator =
        Emulator.start(
            EmulatorSettings.defaults()
                .withPort(0)
                .withProfile(EngineProfile.fast())
                .withMeanOutputTokens(8)
                .withSeed(7));
    emulator.addListener(finished);
    client = new TestClient(emulator.baseUri());
  }

  @AfterAll
  static void stop() {
    emulator.close();
  }

  @BeforeEach
  void clear() {
    finished.clear();
  }

  static String request(String content, Map<String, Object> extra) {
    Map<String, Object> b = new LinkedHashMap<>();
    b.put("model", "claude-test");
    b.put("max_tokens", 1000);
    b.put("messages", List.of(Map.of("role", "user", "content", content)));
    b.putAll(extra);
    return body(b);
  }

  @Test
  void streamHasTheRecordedEventSequenceFieldsAndCumulativeUsage() throws Exception {
    HttpResponse<String> res =
        client.post("/v1/messages", request("Tell me a story", Map.of("stream", true)), HEADERS);

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("content-type"))
        .get()
        .asString()
        .startsWith("text/event-stream");
    NamedEvents ours = NamedEvents.parse(res.body());
    NamedEvents recorded = NamedEvents.fixture("anthropic-messages.sse");
    assertThat(ours.shape()).isEqualTo(recorded.shape());
    for (NamedEvents.Event e : ours.events()) {
      assertThat(e.json().path("type").asText()).isEqualTo(e.name());
      assertThat(keys(e.json())).as(e.name()).isEqualTo(keys(recorded.first(e.name()).json()));
    }
    assertThat(ours.first("ping").data()).isEqualTo("{\"type\": \"ping\"}");
    JsonNode message = ours.first("message_start").json().path("message");
    TreeSet<String> recordedUsage =
        keys(recorded.first("message_start").json().path("message").path("usage"));
    recordedUsage.remove("inference_geo");
    assertThat(keys(message.path("usage"))).isEqualTo(recordedUsage);
    assertThat(message.path("id").asText()).startsWith("msg_");
    assertThat(message.path("model").asText()).isEqualTo("claude-test");
    int prompt = 4 + 4 + 2; // ceil(15 / 4) + per-message overhead + reply primer
    assertThat(message.path("usage").path("input_tokens").asInt()).isEqualTo(prompt);
    assertThat(message.path("usage").path("output_tokens").asInt()).isEqualTo(1);

    // One text_delta per token; the end-of-sequence token counts but has no delta.
    int deltas = ours.named("content_block_delta").size();
    JsonNode delta = ours.first("message_delta").json();
    assertThat(delta.path("delta").path("stop_reason").asText()).isEqualTo("end_turn");
    assertThat(delta.path("usage").path("output_tokens").asInt()).isEqualTo(deltas + 1);
    assertThat(delta.path("usage").path("input_tokens").asInt()).isEqualTo(prompt);
    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.route()).isEqualTo("messages");
    assertThat(r.completionTokens()).isEqualTo(deltas + 1);
  }

  @Test
  void maxTokensStopsWithMaxTokensAndSystemCountsAsAMessage() throws Exception {
    NamedEvents ours =
        NamedEvents.parse(
            client
                .post(
                    "/v1/messages",
                    request(
                        "abcd",
                        Map.of(
                            "stream", true, "max_tokens", 4, "ignore_eos", true, "system", "abcd")))
                .body());

    assertThat(ours.named("content_block_delta")).hasSize(4);
    JsonNode delta = ours.first("message_delta").json();
    assertThat(delta.path("delta").path("stop_reason").asText()).isEqualTo("max_tokens");
    assertThat(delta.path("usage").path("output_tokens").asInt()).isEqualTo(4);
    assertThat(delta.path("usage").path("input_tokens").asInt()).isEqualTo(1 + 1 + 2 * 4 + 2);
    finished.next(Duration.ofSeconds(2)); // each test takes the reports it causes
  }

  @Test
  void nonStreamingIsTheMessageObjectWithUsage() throws Exception {
    HttpResponse<String> res =
        client.post(
            "/v1/messages", request("Hi", Map.of("max_tokens", 7, "ignore_eos", true)), HEADERS);

    assertThat(res.statusCode()).isEqualTo(200);
    JsonNode m = json(res.body());
    assertThat(m.path("type").asText()).isEqualTo("message");
    assertThat(m.path("role").asText()).isEqualTo("assistant");
    assertThat(m.path("stop_reason").asText()).isEqualTo("max_tokens");
    assertThat(m.path("content").get(0).path("type").asText()).isEqualTo("text");
    assertThat(m.path("content").get(0).path("text").asText()).isNotEmpty();
    assertThat(m.path("usage").path("output_tokens").asInt()).isEqualTo(7);
    finished.next(Duration.ofSeconds(2)); // each test takes the reports it causes
  }

  @Test
  void missingMaxTokensIsA400InAnthropicsShape() throws Exception {
    HttpResponse<String> res =
        client.post(
            "/v1/messages",
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}",
            HEADERS);

    assertThat(res.statusCode()).isEqualTo(400);
    JsonNode error = json(res.body());
    assertThat(error.path("type").asText()).isEqualTo("error");
    assertThat(error.path("error").path("type").asText()).isEqualTo("invalid_request_error");
    assertThat(error.path("error").path("message").asText()).contains("max_tokens");
  }

  @Test
  void errorAfterIsAnOverloadedErrorEventWithoutMessageStop() throws Exception {
    HttpResponse<String> res =
        client.post(
            "/v1/messages",
            request("Hi", Map.of("stream", true, "max_tokens", 10, "ignore_eos", true)),
            "x-emulator-fault",
            "error-after=2");

    NamedEvents ours = NamedEvents.parse(res.body());
    NamedEvents recorded = NamedEvents.fixture("anthropic-messages-error.sse");
    assertThat(ours.names()).isEqualTo(recorded.names());
    assertThat(ours.first("error").data()).isEqualTo(recorded.first("error").data());
    assertThat(finished.next(Duration.ofSeconds(2)).finishReason()).isEqualTo("error");
  }

  @Test
  void statusFaultsAndEngineErrorsUseAnthropicErrorTypes() throws Exception {
    HttpResponse<String> overloaded =
        client.post("/v1/messages", request("Hi", Map.of()), "x-emulator-fault", "status=529");
    assertThat(overloaded.statusCode()).isEqualTo(529);
    assertThat(json(overloaded.body()).path("error").path("type").asText())
        .isEqualTo("overloaded_error");
    assertThat(finished.next(Duration.ofSeconds(2)).finishReason()).isEqualTo("status_529");

    HttpResponse<String> failed =
        client.post(
            "/v1/messages",
            request("Hi", Map.of("max_tokens", 10, "ignore_eos", true)),
            "x-emulator-fault",
            "error-after=2");
    assertThat(failed.statusCode()).isEqualTo(500);
    assertThat(json(failed.body()).path("error").path("type").asText()).isEqualTo("api_error");
    assertThat(finished.next(Duration.ofSeconds(2)).finishReason()).isEqualTo("error");
  }
}
