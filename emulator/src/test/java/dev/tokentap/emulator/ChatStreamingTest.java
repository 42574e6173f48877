package dev.tokentap.emulator;

import static dev.tokentap.emulator.TestClient.chatBody;
import static dev.tokentap.emulator.TestClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /v1/chat/completions} streams framed byte for byte as vLLM frames them (wire-formats
 * §2-3).
 */
class ChatStreamingTest {

  private static Emulator emulator;
  private static TestClient client;

  @BeforeAll
  static void start() throws Exception {
    emulator =
        Emulator.start(
            EmulatorSettings.defaults()
                .withPort(0)
                .withProfile(EngineProfile.fast())
                .withMeanOutputTokens(8)
                .withSeed(7));
    client = new TestClient(emulator.baseUri());
  }

  @AfterAll
  static void stop() {
    emulator.close();
  }

  @Test
  void streamIsRoleChunkThenOneChunkPerTokenThenFinishThenUsageThenDone() throws Exception {
    HttpResponse<String> res =
        client.post(
            "/v1/chat/completions",
            chatBody(
                "Tell me a story",
                Map.of(
                    "stream",
                    true,
                    "max_tokens",
                    6,
                    "ignore_eos",
                    true,
                    "stream_options",
                    Map.of("include_usage", true))));

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("content-type"))
        .hasValue("text/event-stream; charset=utf-8");
    assertThat(res.headers().firstValue("transfer-encoding")).hasValue("chunked");
    String body = res.body();
    assertThat(body).matches("(?s)(data: [^\n]+\n\n)+").endsWith("data: [DONE]\n\n");
    List<String> data = dataLines(body);
    assertThat(data).hasSize(1 + 6 + 1 + 1);

    JsonNode role = json(data.get(0));
    assertThat(data.get(0))
        .startsWith("{\"id\":\"chatcmpl-")
        .contains(
            "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}");
    assertThat(role.path("object").asText()).isEqualTo("chat.completion.chunk");
    assertThat(role.path("model").asText()).isEqualTo("test-model");
    assertThat(role.path("created").asLong()).isPositive();
    for (int i = 1; i <= 6; i++) {
      JsonNode chunk = json(data.get(i));
      assertThat(chunk.path("id").asText()).isEqualTo(role.path("id").asText());
      JsonNode choice = chunk.path("choices").get(0);
      assertThat(choice.path("delta").path("content").asText()).matches(" ?[a-z.,]+");
      assertThat(choice.has("logprobs")).isTrue();
      assertThat(choice.path("finish_reason").isNull()).isEqualTo(i < 6);
      assertThat(chunk.has("usage")).isFalse();
    }
    assertThat(json(data.get(6)).path("choices").get(0).path("finish_reason").asText())
        .isEqualTo("length");
    JsonNode usage = json(data.get(7));
    assertThat(usage.path("choices")).isEmpty();
    int prompt = 4 + 4 + 2; // ceil(15 / 4) + per-message overhead + reply primer
    assertThat(usage.path("usage").toString())
        .isEqualTo(
            "{\"prompt_tokens\":"
                + prompt
                + ",\"total_tokens\":"
                + (prompt + 6)
                + ",\"completion_tokens\":6}");
    assertThat(data.get(8)).isEqualTo("[DONE]");
  }

  @Test
  void withoutIncludeUsageThereIsNoUsageChunk() throws Exception {
    String body =
        client
            .post(
                "/v1/chat/completions",
                chatBody("Hi", Map.of("stream", true, "max_tokens", 3, "ignore_eos", true)))
            .body();

    List<String> data = dataLines(body);
    assertThat(data).hasSize(1 + 3 + 1);
    assertThat(body).doesNotContain("usage");
    assertThat(data.get(4)).isEqualTo("[DONE]");
  }

  @Test
  void endOfSequenceIsAnEmptyContentChunkWithStopAndCountsAsAToken() throws Exception {
    String body =
        client
            .post(
                "/v1/chat/completions",
                chatBody(
                    "Why is the sky blue?",
                    Map.of("stream", true, "stream_options", Map.of("include_usage", true))))
            .body();

    List<String> data = dataLines(body);
    JsonNode finish = json(data.get(data.size() - 3)).path("choices").get(0);
    assertThat(finish.path("delta").toString()).isEqualTo("{\"content\":\"\"}");
    assertThat(finish.path("finish_reason").asText()).isEqualTo("stop");
    assertThat(finish.has("stop_reason")).isTrue();
    int tokenChunks = data.size() - 3; // all but role, usage and [DONE]
    assertThat(json(data.get(data.size() - 2)).path("usage").path("completion_tokens").asInt())
        .isEqualTo(tokenChunks);
  }

  @Test
  void continuousUsageStatsPutTheRunningCountOnEveryChunk() throws Exception {
    String body =
        client
            .post(
                "/v1/chat/completions",
                chatBody(
                    "Count",
                    Map.of(
                        "stream",
                        true,
                        "max_tokens",
                        4,
                        "ignore_eos",
                        true,
                        "stream_options",
                        Map.of("include_usage", true, "continuous_usage_stats", true))))
            .body();

    List<String> data = dataLines(body);
    List<Integer> running = new ArrayList<>();
    for (String d : data.subList(0, data.size() - 1)) {
      running.add(json(d).path("usage").path("completion_tokens").asInt());
    }
    assertThat(running).containsExactly(0, 1, 2, 3, 4, 4);
  }

  @Test
  void tokensPerChunkHeaderGroupsTokens() throws Exception {
    String body =
        client
            .post(
                "/v1/chat/completions",
                chatBody(
                    "Group",
                    Map.of(
                        "stream",
                        true,
                        "max_tokens",
                        7,
                        "ignore_eos",
                        true,
                        "stream_options",
                        Map.of("include_usage", true, "continuous_usage_stats", true))),
                "x-emulator-tokens-per-chunk",
                "3")
            .body();

    List<String> data = dataLines(body);
    List<Integer> counts = new ArrayList<>();
    List<Integer> words = new ArrayList<>();
    for (String d : data.subList(1, data.size() - 2)) {
      JsonNode chunk = json(d);
      counts.add(chunk.path("usage").path("completion_tokens").asInt());
      words.add(
          chunk
              .path("choices")
              .get(0)
              .path("delta")
              .path("content")
              .asText()
              .split("(?= )", -1)
              .length);
    }
    assertThat(counts).containsExactly(3, 6, 7);
    assertThat(words).containsExactly(3, 3, 1);
  }

  @Test
  void nChoicesEachGetARoleChunkAndAFinishAndUsageIsTheSum() throws Exception {
    String body =
        client
            .post(
                "/v1/chat/completions",
                chatBody(
                    "Two answers",
                    Map.of(
                        "stream",
                        true,
                        "n",
                        2,
                        "max_tokens",
                        3,
                        "ignore_eos",
                        true,
                        "stream_options",
                        Map.of("include_usage", true))))
            .body();

    List<String> data = dataLines(body);
    List<Integer> indexes = new ArrayList<>();
    for (String d : data.subList(0, data.size() - 2)) {
      JsonNode choices = json(d).path("choices");
      assertThat(choices).hasSize(1);
      indexes.add(choices.get(0).path("index").asInt());
    }
    // role 0, token 0, role 1, token 1, then interleaved tokens
    assertThat(indexes).containsExactly(0, 0, 1, 1, 0, 1, 0, 1);
    assertThat(json(data.get(1)).path("choices").get(0).path("delta").path("content").asText())
        .isNotEqualTo(
            json(data.get(3)).path("choices").get(0).path("delta").path("content").asText());
    assertThat(json(data.get(data.size() - 2)).path("usage").path("completion_tokens").asInt())
        .isEqualTo(6);
  }

  @Test
  void streamedTextEqualsTheNonStreamedReplyAndRepeats() throws Exception {
    Map<String, Object> opts = Map.of("max_tokens", 20, "seed", 42);
    String streamed =
        streamedText(
            client
                .post("/v1/chat/completions", chatBody("Same prompt", with(opts, "stream", true)))
                .body());
    String again =
        streamedText(
            client
                .post("/v1/chat/completions", chatBody("Same prompt", with(opts, "stream", true)))
                .body());
    JsonNode whole =
        json(client.post("/v1/chat/completions", chatBody("Same prompt", opts)).body());

    assertThat(streamed).isNotEmpty().isEqualTo(again);
    assertThat(whole.path("object").asText()).isEqualTo("chat.completion");
    assertThat(whole.path("choices").get(0).path("message").path("content").asText())
        .isEqualTo(streamed);
    assertThat(whole.path("choices").get(0).path("message").path("role").asText())
        .isEqualTo("assistant");
    String otherSeed =
        streamedText(
            client
                .post(
                    "/v1/chat/completions",
                    chatBody("Same prompt", Map.of("max_tokens", 20, "seed", 43, "stream", true)))
                .body());
    assertThat(otherSeed).isNotEqualTo(streamed);
  }

  static Map<String, Object> with(Map<String, Object> base, String key, Object value) {
    Map<String, Object> m = new java.util.HashMap<>(base);
    m.put(key, value);
    return m;
  }

  static List<String> dataLines(String body) {
    List<String> out = new ArrayList<>();
    for (String event : body.split("\n\n")) {
      if (!event.isEmpty()) {
        assertThat(event).startsWith("data: ").doesNotContain("\n");
        out.add(event.substring(6));
      }
    }
    return out;
  }

  static String streamedText(String body) {
    StringBuilder sb = new StringBuilder();
    for (String d : dataLines(body)) {
      if (!d.equals("[DONE]")) {
        for (JsonNode c : json(d).path("choices")) {
          sb.append(
              c.has("delta")
                  ? c.path("delta").path("content").asText("")
                  : c.path("text").asText(""));
        }
      }
    }
    return sb.toString();
  }
}
