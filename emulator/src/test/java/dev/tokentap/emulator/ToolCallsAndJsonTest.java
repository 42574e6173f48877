package dev.tokentap.emulator;

import static dev.tokentap.emulator.TestClient.chatBody;
import static dev.tokentap.emulator.TestClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code tools} answered with a tool call and JSON {@code response_format} with JSON, over HTTP. */
class ToolCallsAndJsonTest {
  private static final Map<String, Object> TOOLS =
      Map.of("tools", List.of(Map.of("type", "function", "function",
          Map.of("name", "get_weather", "parameters", Map.of("type", "object", "properties", Map.of("city", Map.of("type", "string")))))));

  private static Emulator emulator;
  private static TestClient client;

  @BeforeAll
  static void start() throws Exception {
    emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()).withMeanOutputTokens(12));
    client = new TestClient(emulator.baseUri());
  }

  @AfterAll
  static void stop() {
    emulator.close();
  }

  @Test
  void nonStreamedToolCall() throws Exception {
    HttpResponse<String> res = client.post("/v1/chat/completions", chatBody("weather in Paris?", TOOLS));
    JsonNode choice = json(res.body()).path("choices").get(0);
    assertThat(choice.path("finish_reason").asText()).isEqualTo("tool_calls");
    JsonNode call = choice.path("message").path("tool_calls").get(0);
    assertThat(choice.path("message").path("content").isNull()).isTrue();
    assertThat(call.path("type").asText()).isEqualTo("function");
    assertThat(call.path("function").path("name").asText()).isEqualTo("get_weather");
    assertThat(json(call.path("function").path("arguments").asText()).path("city").isTextual()).isTrue();
  }

  @Test
  void streamedToolCallArgumentsJoinToJson() throws Exception {
    Map<String, Object> body = new java.util.HashMap<>(TOOLS);
    body.put("stream", true);
    String stream = client.post("/v1/chat/completions", chatBody("weather in Rome?", body)).body();
    StringBuilder arguments = new StringBuilder();
    String name = null;
    String finish = null;
    for (String line : stream.split("\n")) {
      if (!line.startsWith("data: {")) {
        continue;
      }
      JsonNode choice = json(line.substring(6)).path("choices").get(0);
      JsonNode call = choice.path("delta").path("tool_calls").path(0);
      if (call.path("function").has("name")) {
        name = call.path("function").path("name").asText();
      }
      arguments.append(call.path("function").path("arguments").asText(""));
      if (choice.hasNonNull("finish_reason")) {
        finish = choice.path("finish_reason").asText();
      }
    }
    assertThat(name).isEqualTo("get_weather");
    assertThat(finish).isEqualTo("tool_calls");
    assertThat(json(arguments.toString()).path("city").isTextual()).isTrue();
  }

  @Test
  void jsonObjectAnswersWithJson() throws Exception {
    HttpResponse<String> res =
        client.post("/v1/chat/completions", chatBody("answer in JSON", Map.of("response_format", Map.of("type", "json_object"))));
    String content = json(res.body()).path("choices").get(0).path("message").path("content").asText();
    assertThat(json(content).path("answer").isTextual()).isTrue();
  }
}
