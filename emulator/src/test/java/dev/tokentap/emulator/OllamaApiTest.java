package dev.tokentap.emulator;

import static dev.tokentap.emulator.NamedEvents.body;
import static dev.tokentap.emulator.NamedEvents.keys;
import static dev.tokentap.emulator.TestClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokentap.testkit.Fixtures;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Ollama's native {@code /api/chat}, {@code /api/generate} and {@code /api/tags} (wire-formats §8).
 */
class OllamaApiTest {

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

  static String chat(String content, Map<String, Object> extra) {
    Map<String, Object> b = new LinkedHashMap<>();
    b.put("model", "llama3");
    b.put("messages", List.of(Map.of("role", "user", "content", content)));
    b.putAll(extra);
    return body(b);
  }

  private static List<JsonNode> lines(String body) {
    assertThat(body).endsWith("\n").doesNotContain("\n\n");
    return Arrays.stream(body.split("\n")).map(TestClient::json).toList();
  }

  @Test
  void streamsByDefaultOneLinePerTokenThenTheDoneLineAsRecorded() throws Exception {
    HttpResponse<String> res = client.post("/api/chat", chat("Why is the sky blue?", Map.of()));

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("content-type")).hasValue("application/x-ndjson");
    List<JsonNode> ours = lines(res.body());
    List<JsonNode> recorded =
        lines(new String(Fixtures.stream("ollama-chat.ndjson"), StandardCharsets.UTF_8));
    JsonNode done = ours.get(ours.size() - 1);
    for (JsonNode line : ours.subList(0, ours.size() - 1)) {
      assertThat(keys(line)).isEqualTo(keys(recorded.get(0)));
      assertThat(keys(line.path("message"))).isEqualTo(keys(recorded.get(0).path("message")));
      assertThat(line.path("done").asBoolean()).isFalse();
      assertThat(line.path("model").asText()).isEqualTo("llama3");
      assertThat(line.path("message").path("content").asText()).isNotEmpty();
      assertThat(Instant.parse(line.path("created_at").asText())).isBefore(Instant.now());
    }
    assertThat(keys(done)).isEqualTo(keys(recorded.get(recorded.size() - 1)));
    assertThat(done.path("done").asBoolean()).isTrue();
    assertThat(done.path("done_reason").asText()).isEqualTo("stop");
    assertThat(done.path("message").path("content").asText()).isEmpty();
    // As recorded: eval_count counts the end token too, one more than the content lines.
    assertThat(done.path("eval_count").asInt()).isEqualTo(ours.size());
    assertThat(done.path("prompt_eval_count").asInt()).isEqualTo(5 + 4 + 2);
    long total = done.path("total_duration").asLong();
    assertThat(total).isPositive();
    assertThat(
            done.path("load_duration").asLong()
                + done.path("prompt_eval_duration").asLong()
                + done.path("eval_duration").asLong())
        .isEqualTo(total);
    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.route()).isEqualTo("ollama_chat");
    assertThat(r.completionTokens()).isEqualTo(ours.size());
  }

  @Test
  void numPredictLimitsWithDoneReasonLength() throws Exception {
    List<JsonNode> ours =
        lines(
            client
                .post(
                    "/api/chat",
                    chat("Hi", Map.of("options", Map.of("num_predict", 5), "ignore_eos", true)))
                .body());

    assertThat(ours).hasSize(5 + 1);
    JsonNode done = ours.get(5);
    assertThat(done.path("done_reason").asText()).isEqualTo("length");
    assertThat(done.path("eval_count").asInt()).isEqualTo(5);
    finished.next(Duration.ofSeconds(2)); // each test takes the reports it causes
  }

  @Test
  void nonStreamingIsOneObject() throws Exception {
    HttpResponse<String> res =
        client.post(
            "/api/chat",
            chat(
                "Hi",
                Map.of(
                    "stream",
                    false,
                    "options",
                    Map.of("num_predict", 4, "seed", 1),
                    "ignore_eos",
                    true)));

    assertThat(res.headers().firstValue("content-type")).hasValue("application/json");
    JsonNode r = json(res.body());
    assertThat(r.path("done").asBoolean()).isTrue();
    assertThat(r.path("eval_count").asInt()).isEqualTo(4);
    assertThat(r.path("message").path("content").asText()).isNotEmpty();
    assertThat(r.path("message").path("role").asText()).isEqualTo("assistant");
    finished.next(Duration.ofSeconds(2)); // each test takes the reports it causes
  }

  @Test
  void generateHasResponseInPlaceOfMessage() throws Exception {
    List<JsonNode> ours =
        lines(
            client
                .post(
                    "/api/generate",
                    body(
                        Map.of(
                            "model",
                            "llama3",
                            "prompt",
                            "abcdefgh",
                            "options",
                            Map.of("num_predict", 3),
                            "ignore_eos",
                            true)))
                .body());

    assertThat(ours).hasSize(3 + 1);
    assertThat(ours.get(0).has("message")).isFalse();
    assertThat(ours.get(0).path("response").asText()).isNotEmpty();
    assertThat(ours.get(3).path("prompt_eval_count").asInt()).isEqualTo(2);
    finished.next(Duration.ofSeconds(2)); // each test takes the reports it causes
  }

  @Test
  void errorsAreErrorObjectsBeforeAndAfterOutputStarts() throws Exception {
    HttpResponse<String> rejected =
        client.post("/api/chat", chat("Hi", Map.of()), "x-emulator-fault", "status=503");
    assertThat(rejected.statusCode()).isEqualTo(503);
    assertThat(rejected.body()).isEqualTo("{\"error\":\"emulated fault: HTTP 503\"}");
    assertThat(finished.next(Duration.ofSeconds(2)).finishReason()).isEqualTo("status_503");

    HttpResponse<String> failed =
        client.post(
            "/api/chat",
            chat("Hi", Map.of("options", Map.of("num_predict", 10), "ignore_eos", true)),
            "x-emulator-fault",
            "error-after=3");
    assertThat(failed.statusCode()).isEqualTo(200);
    List<JsonNode> ours = lines(failed.body());
    assertThat(ours).hasSize(3 + 1);
    assertThat(ours.get(3).toString())
        .isEqualTo("{\"error\":\"" + GenerationExchange.ENGINE_FAILURE + "\"}");
    assertThat(finished.next(Duration.ofSeconds(2)).finishReason()).isEqualTo("error");

    HttpResponse<String> invalid = client.post("/api/chat", "{\"model\":\"m\"}");
    assertThat(invalid.statusCode()).isEqualTo(400);
    assertThat(json(invalid.body()).path("error").asText()).startsWith("messages:");
  }

  @Test
  void tagsListTheServedModel() throws Exception {
    HttpResponse<String> res = client.get("/api/tags");
    assertThat(res.statusCode()).isEqualTo(200);
    JsonNode model = json(res.body()).path("models").get(0);
    assertThat(model.path("name").asText()).isEqualTo(emulator.settings().servedModelName());
    assertThat(model.path("details").path("family").asText()).isNotEmpty();
    assertThat(json(client.get("/api/version").body()).path("version").asText()).isNotEmpty();
  }
}
