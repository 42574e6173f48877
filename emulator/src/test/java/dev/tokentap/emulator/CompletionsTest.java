package dev.tokentap.emulator;

import static dev.tokentap.emulator.ChatStreamingTest.dataLines;
import static dev.tokentap.emulator.TestClient.completionBody;
import static dev.tokentap.emulator.TestClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code /v1/completions}: vLLM's text_completion chunks, non-streamed replies, length limits. */
class CompletionsTest {

  private static Emulator emulator;
  private static TestClient client;

  @BeforeAll
  static void start() throws Exception {
    emulator =
        Emulator.start(
            EmulatorSettings.defaults()
                .withPort(0)
                .withProfile(EngineProfile.fast())
                .withMeanOutputTokens(5));
    client = new TestClient(emulator.baseUri());
  }

  @AfterAll
  static void stop() {
    emulator.close();
  }

  @Test
  void streamHasNoRoleChunkAndNullUsageOnEveryChunk() throws Exception {
    String body =
        client
            .post(
                "/v1/completions",
                completionBody(
                    "Once upon a time",
                    Map.of(
                        "stream",
                        true,
                        "max_tokens",
                        4,
                        "ignore_eos",
                        true,
                        "stream_options",
                        Map.of("include_usage", true))))
            .body();

    List<String> data = dataLines(body);
    assertThat(data).hasSize(4 + 1 + 1);
    for (int i = 0; i < 4; i++) {
      assertThat(data.get(i))
          .startsWith("{\"id\":\"cmpl-")
          .contains("\"object\":\"text_completion\"")
          .endsWith(",\"stop_reason\":null}],\"usage\":null}");
      JsonNode choice = json(data.get(i)).path("choices").get(0);
      assertThat(choice.path("text").asText()).isNotEmpty();
      assertThat(choice.path("finish_reason").isNull()).isEqualTo(i < 3);
    }
    assertThat(json(data.get(3)).path("choices").get(0).path("finish_reason").asText())
        .isEqualTo("length");
    assertThat(json(data.get(4)).path("usage").path("prompt_tokens").asInt())
        .isEqualTo(4); // ceil(16 / 4)
    assertThat(data.get(5)).isEqualTo("[DONE]");
  }

  @Test
  void nonStreamedReplyMatchesTheStream() throws Exception {
    Map<String, Object> opts = Map.of("max_tokens", 12, "n", 2);
    JsonNode whole =
        json(client.post("/v1/completions", completionBody("Deterministic", opts)).body());
    String body =
        client
            .post(
                "/v1/completions",
                completionBody("Deterministic", ChatStreamingTest.with(opts, "stream", true)))
            .body();
    StringBuilder[] byChoice = {new StringBuilder(), new StringBuilder()};
    for (String d : dataLines(body)) {
      if (!d.equals("[DONE]")) {
        for (JsonNode c : json(d).path("choices")) {
          byChoice[c.path("index").asInt()].append(c.path("text").asText());
        }
      }
    }

    assertThat(whole.path("object").asText()).isEqualTo("text_completion");
    assertThat(whole.path("choices")).hasSize(2);
    assertThat(whole.path("choices").get(0).path("text").asText())
        .isEqualTo(byChoice[0].toString());
    assertThat(whole.path("choices").get(1).path("text").asText())
        .isEqualTo(byChoice[1].toString());
    int completion = whole.path("usage").path("completion_tokens").asInt();
    assertThat(whole.path("usage").path("total_tokens").asInt())
        .isEqualTo(completion + whole.path("usage").path("prompt_tokens").asInt());
  }

  @Test
  void ignoreEosRunsToMaxTokensAndOtherwiseTheLengthVaries() throws Exception {
    JsonNode full =
        json(
            client
                .post(
                    "/v1/completions",
                    completionBody("Limit", Map.of("max_tokens", 40, "ignore_eos", true)))
                .body());
    assertThat(full.path("usage").path("completion_tokens").asInt()).isEqualTo(40);
    assertThat(full.path("choices").get(0).path("finish_reason").asText()).isEqualTo("length");

    int stops = 0;
    for (int i = 0; i < 10; i++) {
      JsonNode r =
          json(
              client
                  .post("/v1/completions", completionBody("Prompt " + i, Map.of("max_tokens", 40)))
                  .body());
      int tokens = r.path("usage").path("completion_tokens").asInt();
      assertThat(tokens).isBetween(1, 40);
      stops += r.path("choices").get(0).path("finish_reason").asText().equals("stop") ? 1 : 0;
    }
    assertThat(stops)
        .as("mean 5 of at most 40: nearly always an end-of-sequence")
        .isGreaterThanOrEqualTo(8);
  }

  @Test
  void tokenIdPromptsCountOneTokenEach() throws Exception {
    JsonNode r =
        json(
            client
                .post(
                    "/v1/completions",
                    "{\"prompt\":[1,2,3,4,5,6,7],\"max_tokens\":2,\"ignore_eos\":true}")
                .body());
    assertThat(r.path("usage").path("prompt_tokens").asInt()).isEqualTo(7);
    assertThat(r.path("model").asText()).isEqualTo("tokentap-emulator-8b");
  }
}
