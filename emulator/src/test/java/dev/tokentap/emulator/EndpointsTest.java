package dev.tokentap.emulator;

import static dev.tokentap.emulator.TestClient.chatBody;
import static dev.tokentap.emulator.TestClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The endpoints besides generation, and how bad requests are answered. */
class EndpointsTest {

  private static Emulator emulator;
  private static TestClient client;

  @BeforeAll
  static void start() throws Exception {
    emulator =
        Emulator.start(
            EmulatorSettings.defaults()
                .withPort(0)
                .withProfile(EngineProfile.fast())
                .withServedModelName("served-8b")
                .withMaxRequestBodyBytes(4096));
    client = new TestClient(emulator.baseUri());
  }

  @AfterAll
  static void stop() {
    emulator.close();
  }

  @Test
  void modelsListsTheServedModel() throws Exception {
    HttpResponse<String> res = client.get("/v1/models");
    JsonNode body = json(res.body());
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(body.path("object").asText()).isEqualTo("list");
    assertThat(body.path("data").get(0).path("id").asText()).isEqualTo("served-8b");
    assertThat(body.path("data").get(0).path("object").asText()).isEqualTo("model");
  }

  @Test
  void healthIsOk() throws Exception {
    assertThat(client.get("/health").statusCode()).isEqualTo(200);
  }

  @Test
  void metricsUseVllmNamesWithTheModelLabel() throws Exception {
    client.post(
        "/v1/chat/completions", chatBody("count me", Map.of("max_tokens", 3, "ignore_eos", true)));
    HttpResponse<String> res = client.get("/metrics");

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("content-type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    String text = res.body();
    for (String gauge :
        new String[] {
          "vllm:num_requests_running",
          "vllm:num_requests_waiting",
          "vllm:kv_cache_usage_perc",
          "vllm:gpu_cache_usage_perc"
        }) {
      assertThat(text)
          .contains("# TYPE " + gauge + " gauge\n")
          .containsPattern("\n" + gauge + "\\{engine=\"0\",model_name=\"served-8b\"} [0-9.]+(E-?[0-9]+)?\n");
    }
    for (String counter :
        new String[] {
          "vllm:request_success_total", "vllm:prompt_tokens_total", "vllm:generation_tokens_total"
        }) {
      assertThat(text)
          .contains("# HELP " + counter + " ")
          .contains("# TYPE " + counter + " counter\n");
    }
    assertThat(text)
        .containsPattern(
            "vllm:request_success_total\\{engine=\"0\",finished_reason=\"length\",model_name=\"served-8b\"}"
                + " [1-9]");
    assertThat(sample(text, "vllm:generation_tokens_total")).isGreaterThanOrEqualTo(3);
    assertThat(sample(text, "vllm:prompt_tokens_total")).isGreaterThanOrEqualTo(9);
    // Every line is a comment or "name{labels} value".
    for (String line : text.split("\n")) {
      assertThat(line).matches("# (HELP|TYPE) .+|[a-z_:]+\\{[^}]*} -?[0-9.]+(E-?[0-9]+)?");
    }
  }

  @Test
  void requestWithoutModelGetsTheServedModel() throws Exception {
    JsonNode r =
        json(
            client
                .post(
                    "/v1/chat/completions",
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1}")
                .body());
    assertThat(r.path("model").asText()).isEqualTo("served-8b");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "not json                  | {\"messages\":                                   | not valid"
            + " JSON",
        "not an object             | [1,2]                                           | must be a"
            + " JSON object",
        "no messages               | {\"model\":\"m\"}                               | messages:"
            + " null",
        "empty messages            | {\"messages\":[]}                               | messages:"
            + " []",
        "max_tokens 0              |"
            + " {\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0} |"
            + " max_tokens: 0 (expected: an integer >= 1)",
        "n 0                       | {\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":0}"
            + "          | n: 0 (expected: an integer 1..128)",
        "stream not boolean        |"
            + " {\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":\"yes\"} | stream:"
            + " \"yes\"",
        "KV budget exceeded        |"
            + " {\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":1000000} |"
            + " KV-cache tokens",
      })
  void badRequestsGet400WithAnOpenAiError(String name, String body, String message)
      throws Exception {
    HttpResponse<String> res = client.post("/v1/chat/completions", body);

    assertThat(res.statusCode()).isEqualTo(400);
    JsonNode error = json(res.body()).path("error");
    assertThat(error.path("message").asText()).contains(message);
    assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
    assertThat(error.has("param")).isTrue();
    assertThat(error.has("code")).isTrue();
  }

  @Test
  void maxCompletionTokensWinsOverMaxTokens() throws Exception {
    JsonNode r =
        json(
            client
                .post(
                    "/v1/chat/completions",
                    chatBody(
                        "limit",
                        Map.of("max_tokens", 50, "max_completion_tokens", 5, "ignore_eos", true)))
                .body());
    assertThat(r.path("usage").path("completion_tokens").asInt()).isEqualTo(5);
  }

  @Test
  void badTokensPerChunkHeaderIs400() throws Exception {
    HttpResponse<String> res =
        client.post(
            "/v1/chat/completions", chatBody("x", Map.of()), "x-emulator-tokens-per-chunk", "0");
    assertThat(res.statusCode()).isEqualTo(400);
    assertThat(json(res.body()).path("error").path("message").asText())
        .isEqualTo("x-emulator-tokens-per-chunk: 0 (expected: an integer >= 1)");
  }

  @Test
  void completionsWithoutPromptIs400() throws Exception {
    HttpResponse<String> res = client.post("/v1/completions", "{\"model\":\"m\"}");
    assertThat(res.statusCode()).isEqualTo(400);
    assertThat(json(res.body()).path("error").path("message").asText()).startsWith("prompt:");
  }

  @Test
  void unknownPathIs404AndWrongMethod405() throws Exception {
    HttpResponse<String> notFound = client.get("/v1/nothing");
    assertThat(notFound.statusCode()).isEqualTo(404);
    assertThat(json(notFound.body()).path("error").path("message").asText())
        .isEqualTo("Invalid URL (GET /v1/nothing)");
    assertThat(client.get("/v1/chat/completions").statusCode()).isEqualTo(405);
  }

  @Test
  void bodyOverTheLimitIs413() throws Exception {
    HttpResponse<String> res =
        client.post("/v1/chat/completions", chatBody("x".repeat(5000), Map.of()));
    assertThat(res.statusCode()).isEqualTo(413);
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrderOnOneConnection() throws Exception {
    try (RawHttp raw = new RawHttp(emulator.baseUri())) {
      // The stall keeps the first stream running while the second request arrives behind it.
      raw.post(
          "/v1/completions",
          "{\"prompt\":\"one\",\"max_tokens\":3,\"ignore_eos\":true,\"stream\":true}",
          "x-emulator-fault",
          "stall-after=1:100ms");
      raw.post("/v1/completions", "{\"prompt\":\"two\",\"max_tokens\":2,\"ignore_eos\":true}");
      String text = raw.readUntil("\"completion_tokens\":2", 1);
      assertThat(text.indexOf("data: [DONE]"))
          .isPositive()
          .isLessThan(text.indexOf("content-length"));
      assertThat(RawHttp.occurrences(text, "HTTP/1.1 200 OK")).isEqualTo(2);
    }
  }

  private static double sample(String text, String name) {
    for (String line : text.split("\n")) {
      if (line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError("no sample " + name);
  }
}
