package dev.tokentap.emulator;

import static dev.tokentap.emulator.NamedEvents.body;
import static dev.tokentap.emulator.NamedEvents.keys;
import static dev.tokentap.emulator.TestClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code /v1/responses} framed as the OpenAI Responses API (wire-formats §6). */
class ResponsesApiTest {

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

  private static String request(String input, Map<String, Object> extra) {
    Map<String, Object> b = new java.util.LinkedHashMap<>();
    b.put("model", "test-model");
    b.put("input", input);
    b.putAll(extra);
    return body(b);
  }

  @Test
  void streamHasTheRecordedEventSequenceFieldsAndNumbering() throws Exception {
    HttpResponse<String> res =
        client.post("/v1/responses", request("Tell me a story", Map.of("stream", true)));

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("content-type"))
        .hasValue("text/event-stream; charset=utf-8");
    assertThat(res.body()).doesNotContain("[DONE]");
    NamedEvents ours = NamedEvents.parse(res.body());
    NamedEvents recorded = NamedEvents.fixture("openai-responses.sse");
    assertThat(ours.shape()).isEqualTo(recorded.shape());
    for (int i = 0; i < ours.events().size(); i++) {
      NamedEvents.Event e = ours.events().get(i);
      assertThat(e.json().path("type").asText()).isEqualTo(e.name());
      assertThat(e.json().path("sequence_number").asInt()).isEqualTo(i);
      // The same fields as the real server's event of that type (its obfuscation padding aside).
      TreeSet<String> expected = keys(recorded.first(e.name()).json());
      expected.remove("obfuscation");
      assertThat(keys(e.json())).as(e.name()).isEqualTo(expected);
    }
    JsonNode created = ours.first("response.created").json().path("response");
    assertThat(keys(created))
        .isEqualTo(keys(recorded.first("response.created").json().path("response")));
    assertThat(created.path("status").asText()).isEqualTo("in_progress");
    assertThat(created.path("usage").isNull()).isTrue();

    JsonNode done = ours.first("response.completed").json().path("response");
    assertThat(done.path("status").asText()).isEqualTo("completed");
    List<NamedEvents.Event> deltas = ours.named("response.output_text.delta");
    StringBuilder text = new StringBuilder();
    deltas.forEach(d -> text.append(d.json().path("delta").asText()));
    assertThat(ours.first("response.output_text.done").json().path("text").asText())
        .isEqualTo(text.toString());
    assertThat(done.path("output").get(0).path("content").get(0).path("text").asText())
        .isEqualTo(text.toString());
    String itemId =
        ours.first("response.output_item.added").json().path("item").path("id").asText();
    assertThat(itemId).startsWith("msg_");
    deltas.forEach(d -> assertThat(d.json().path("item_id").asText()).isEqualTo(itemId));

    // One delta per token; the end-of-sequence token is counted but has no delta.
    int prompt = 4 + 4 + 2; // ceil(15 / 4) + per-message overhead + reply primer
    JsonNode usage = done.path("usage");
    assertThat(usage.toString())
        .isEqualTo(
            "{\"input_tokens\":"
                + prompt
                + ",\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":"
                + (deltas.size() + 1)
                + ",\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":"
                + (prompt + deltas.size() + 1)
                + "}");
    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.route()).isEqualTo("responses");
    assertThat(r.completionTokens()).isEqualTo(deltas.size() + 1);
  }

  @Test
  void maxOutputTokensEndsIncompleteWithOneDeltaPerToken() throws Exception {
    String body =
        client
            .post(
                "/v1/responses",
                request("Hi", Map.of("stream", true, "max_output_tokens", 5, "ignore_eos", true)))
            .body();

    NamedEvents ours = NamedEvents.parse(body);
    assertThat(ours.named("response.output_text.delta")).hasSize(5);
    assertThat(ours.names()).doesNotContain("response.completed").endsWith("response.incomplete");
    JsonNode response = ours.first("response.incomplete").json().path("response");
    assertThat(response.path("status").asText()).isEqualTo("incomplete");
    assertThat(response.path("incomplete_details").path("reason").asText())
        .isEqualTo("max_output_tokens");
    assertThat(response.path("usage").path("output_tokens").asInt()).isEqualTo(5);
    finished.next(Duration.ofSeconds(2)); // each test takes the reports it causes
  }

  @Test
  void messageListInputAndInstructionsCountByTheChatRule() throws Exception {
    String body =
        body(
            Map.of(
                "input",
                List.of(
                    Map.of("role", "user", "content", "abcdefgh"),
                    Map.of(
                        "type",
                        "message",
                        "role",
                        "user",
                        "content",
                        List.of(Map.of("type", "input_text", "text", "abcd")))),
                "instructions",
                "be brief",
                "max_output_tokens",
                3,
                "ignore_eos",
                true));
    JsonNode res = json(client.post("/v1/responses", body).body());

    // (2 + 1 + 2) content tokens + 3 messages x 4 + 2
    assertThat(res.path("usage").path("input_tokens").asInt()).isEqualTo(5 + 12 + 2);
    assertThat(res.path("model").asText()).isEqualTo(emulator.settings().servedModelName());
    finished.next(Duration.ofSeconds(2)); // each test takes the reports it causes
  }

  @Test
  void nonStreamingIsTheResponseObjectAndMatchesTheStreamForTheSameRequest() throws Exception {
    Map<String, Object> fields = Map.of("max_output_tokens", 6, "ignore_eos", true, "seed", 3);
    HttpResponse<String> res = client.post("/v1/responses", request("same", fields));
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("content-type")).hasValue("application/json");
    JsonNode r = json(res.body());
    assertThat(r.path("object").asText()).isEqualTo("response");
    assertThat(r.path("id").asText()).startsWith("resp_");
    assertThat(r.path("status").asText()).isEqualTo("incomplete");
    assertThat(r.path("usage").path("output_tokens").asInt()).isEqualTo(6);
    String text = r.path("output").get(0).path("content").get(0).path("text").asText();

    Map<String, Object> streamed = new java.util.HashMap<>(fields);
    streamed.put("stream", true);
    NamedEvents s =
        NamedEvents.parse(client.post("/v1/responses", request("same", streamed)).body());
    assertThat(s.first("response.output_text.done").json().path("text").asText()).isEqualTo(text);
    finished.next(Duration.ofSeconds(2)); // each test takes the reports it causes
    finished.next(Duration.ofSeconds(2));
  }

  @Test
  void errorAfterIsAnErrorEventThenResponseFailedAsRecorded() throws Exception {
    HttpResponse<String> res =
        client.post(
            "/v1/responses",
            request("Hi", Map.of("stream", true, "max_output_tokens", 10, "ignore_eos", true)),
            "x-emulator-fault",
            "error-after=3");

    assertThat(res.statusCode()).isEqualTo(200);
    NamedEvents ours = NamedEvents.parse(res.body());
    assertThat(ours.named("response.output_text.delta")).hasSize(3);
    assertThat(ours.names()).endsWith("error", "response.failed");
    NamedEvents recorded = NamedEvents.fixture("openai-responses-error.sse");
    JsonNode error = ours.first("error").json();
    assertThat(keys(error)).isEqualTo(keys(recorded.first("error").json()));
    assertThat(keys(error.path("error")))
        .isEqualTo(keys(recorded.first("error").json().path("error")));
    JsonNode failed = ours.first("response.failed").json().path("response");
    assertThat(failed.path("status").asText()).isEqualTo("failed");
    assertThat(failed.path("error").path("message").asText())
        .isEqualTo(GenerationExchange.ENGINE_FAILURE);
    assertThat(finished.next(Duration.ofSeconds(2)).finishReason()).isEqualTo("error");
  }

  @Test
  void invalidRequestsAndStatusFaultsGetOpenAiErrors() throws Exception {
    HttpResponse<String> missing = client.post("/v1/responses", "{\"model\":\"m\"}");
    assertThat(missing.statusCode()).isEqualTo(400);
    assertThat(json(missing.body()).path("error").path("message").asText()).startsWith("input:");

    HttpResponse<String> limited =
        client.post("/v1/responses", request("Hi", Map.of()), "x-emulator-fault", "status=429");
    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(json(limited.body()).path("error").path("type").asText())
        .isEqualTo("rate_limit_error");
    assertThat(limited.headers().firstValue("retry-after")).hasValue("1");
    assertThat(finished.next(Duration.ofSeconds(2)).finishReason()).isEqualTo("status_429");
  }
}
