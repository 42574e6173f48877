package dev.tokentap.emulator;

import static dev.tokentap.emulator.TestClient.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code POST /v1/embeddings} as vLLM serves it, over real sockets and through the OpenAI SDK. */
class EmbeddingsTest {

  /** Prefill 20,000 tokens/s: 2,000 prompt tokens cost 100 ms, small inputs next to nothing. */
  private static final double PREFILL_RATE = 20_000;

  private static Emulator emulator;
  private static TestClient client;
  private static OpenAIClient openai;
  private static final Recorder finished = new Recorder();

  @BeforeAll
  static void start() throws Exception {
    emulator =
        Emulator.start(
            EmulatorSettings.defaults()
                .withPort(0)
                .withProfile(EngineProfile.fast().withPrefillTokensPerSecond(PREFILL_RATE))
                .withSeed(11));
    emulator.addListener(finished);
    client = new TestClient(emulator.baseUri());
    openai =
        OpenAIOkHttpClient.builder()
            .baseUrl(emulator.baseUri().toString().replaceAll("/$", "") + "/v1")
            .apiKey("sk-emulated")
            .maxRetries(0)
            .timeout(Duration.ofSeconds(10))
            .build();
  }

  @AfterAll
  static void stop() {
    openai.close();
    emulator.close();
  }

  @BeforeEach
  void clear() {
    finished.clear();
  }

  @Test
  void oneStringGetsAUnitVectorOfTheConfiguredDimensionAndItsUsage() throws Exception {
    String text = "Embed this sentence, please."; // 28 code points: 7 tokens
    HttpResponse<String> res = embed(Map.of("model", "embed-m", "input", text));

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("content-type")).hasValue("application/json");
    JsonNode body = json(res.body());
    assertThat(body.path("object").asText()).isEqualTo("list");
    assertThat(body.path("id").asText()).startsWith("embd-");
    assertThat(body.path("model").asText()).isEqualTo("embed-m");
    assertThat(body.path("data")).hasSize(1);
    JsonNode item = body.path("data").get(0);
    assertThat(item.path("object").asText()).isEqualTo("embedding");
    assertThat(item.path("index").asInt()).isZero();
    float[] v = floats(item.path("embedding"));
    assertThat(v).hasSize(EmulatorSettings.DEFAULT_EMBEDDING_DIMENSIONS);
    assertThat(norm(v)).isCloseTo(1.0, within(1e-5));
    assertThat(body.path("usage").path("prompt_tokens").asInt()).isEqualTo(7);
    assertThat(body.path("usage").path("total_tokens").asInt()).isEqualTo(7);

    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.route()).isEqualTo("embeddings");
    assertThat(r.model()).isEqualTo("embed-m");
    assertThat(r.promptTokens()).isEqualTo(7);
    assertThat(r.completionTokens()).isZero();
    assertThat(r.finishReason()).isEqualTo("stop");
  }

  @Test
  void vectorsArePureFunctionsOfTheInputAndSeed() throws Exception {
    float[] a = vectorOf(emulator, "the same text");
    float[] again = vectorOf(emulator, "the same text");
    float[] other = vectorOf(emulator, "another text");
    assertThat(again).containsExactly(a);
    assertThat(other).isNotEqualTo(a);
    assertThat(dot(a, other)).isLessThan(0.5); // independent directions, not a near-copy

    try (Emulator reseeded =
            Emulator.start(
                EmulatorSettings.defaults()
                    .withPort(0)
                    .withProfile(EngineProfile.fast())
                    .withSeed(12));
        Emulator sameSeed =
            Emulator.start(
                EmulatorSettings.defaults()
                    .withPort(0)
                    .withProfile(EngineProfile.fast())
                    .withSeed(11))) {
      assertThat(vectorOf(reseeded, "the same text")).isNotEqualTo(a);
      assertThat(vectorOf(sameSeed, "the same text")).containsExactly(a);
    }
  }

  @Test
  void arrayInputsGetOneVectorEachInOrderAndSummedUsage() throws Exception {
    List<String> inputs = List.of("one", "two words here", "the same text");
    JsonNode body = json(embed(Map.of("input", inputs)).body());

    assertThat(body.path("data")).hasSize(3);
    for (int i = 0; i < 3; i++) {
      assertThat(body.path("data").get(i).path("index").asInt()).isEqualTo(i);
    }
    // A vector does not depend on its batch: the third is the single request's.
    assertThat(floats(body.path("data").get(2).path("embedding")))
        .containsExactly(vectorOf(emulator, "the same text"));
    int expected = 1 + 4 + 4; // ceil(3/4) + ceil(14/4) + ceil(13/4)
    assertThat(body.path("usage").path("prompt_tokens").asInt()).isEqualTo(expected);
    assertThat(body.path("usage").path("total_tokens").asInt()).isEqualTo(expected);
    assertThat(body.path("model").asText()).isEqualTo("tokentap-emulator-8b");
  }

  @Test
  void tokenIdInputsCountTheirLength() throws Exception {
    JsonNode arrays =
        json(embed(Map.of("input", List.of(List.of(1, 2, 3), List.of(40, 50)))).body());
    assertThat(arrays.path("data")).hasSize(2);
    assertThat(arrays.path("usage").path("prompt_tokens").asInt()).isEqualTo(5);

    JsonNode single = json(embed(Map.of("input", List.of(7, 8, 9, 10))).body());
    assertThat(single.path("data")).hasSize(1);
    assertThat(single.path("usage").path("prompt_tokens").asInt()).isEqualTo(4);
  }

  @Test
  void dimensionsTruncateAndRenormaliseAndBase64CarriesTheSameFloats() throws Exception {
    JsonNode plain = json(embed(Map.of("input", "matryoshka", "dimensions", 8)).body());
    float[] v = floats(plain.path("data").get(0).path("embedding"));
    assertThat(v).hasSize(8);
    assertThat(norm(v)).isCloseTo(1.0, within(1e-5));
    // The short vector points along the start of the full one.
    float[] full = vectorOf(emulator, "matryoshka");
    double scale = v[0] / full[0];
    for (int i = 0; i < 8; i++) {
      assertThat((double) v[i]).isCloseTo(full[i] * scale, within(1e-5));
    }

    JsonNode encoded =
        json(
                embed(Map.of("input", "matryoshka", "dimensions", 8, "encoding_format", "base64"))
                    .body());
    String b64 = encoded.path("data").get(0).path("embedding").asText();
    ByteBuffer bytes =
        ByteBuffer.wrap(Base64.getDecoder().decode(b64)).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(bytes.remaining()).isEqualTo(8 * Float.BYTES);
    float[] decoded = new float[8];
    for (int i = 0; i < 8; i++) {
      decoded[i] = bytes.getFloat();
    }
    assertThat(decoded).containsExactly(v);
  }

  @Test
  void latencyIsThePrefillOfThePromptThroughTheEngine() throws Exception {
    String text = "x".repeat(8000); // 2,000 tokens at 20,000 tokens/s: 100 ms of prefill
    long start = System.nanoTime();
    HttpResponse<String> res = embed(Map.of("input", text));
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(elapsedMs).isBetween(95L, 5_000L);
    assertThat(finished.next(Duration.ofSeconds(2)).promptTokens()).isEqualTo(2000);
  }

  @Test
  void anInputHoldsAnEngineSeatWhileItPrefillsAndADisconnectCancelsIt() throws Exception {
    // 10,000 tokens: two steps of chunked prefill (8,192 batched tokens), about 0.5 s in all.
    String body = TestClient.JSON.writeValueAsString(Map.of("input", "y".repeat(40_000)));
    try (RawHttp raw = new RawHttp(emulator.baseUri())) {
      raw.post("/v1/embeddings", body);
      ClientDisconnectTest.awaitStats(emulator, s -> s.running() == 1);
    }
    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.route()).isEqualTo("embeddings");
    assertThat(r.finishReason()).isEqualTo("cancelled");
    assertThat(r.disconnectNanos()).isNotEqualTo(-1);
    ClientDisconnectTest.awaitStats(emulator, s -> s.running() == 0 && s.kvCacheUsage() == 0);
  }

  @Test
  void metricsCountThePromptTokens() throws Exception {
    double before = sample(client.get("/metrics").body(), "vllm:prompt_tokens_total");
    JsonNode body = json(embed(Map.of("input", List.of("count these", "and these too"))).body());
    int promptTokens = body.path("usage").path("prompt_tokens").asInt();
    assertThat(promptTokens).isEqualTo(3 + 4);

    // The engine adds a step's tokens just after handing its output over: allow it that moment.
    long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    double after;
    do {
      after = sample(client.get("/metrics").body(), "vllm:prompt_tokens_total");
    } while (after - before < promptTokens && System.nanoTime() < deadline);
    assertThat(after - before).isEqualTo(promptTokens);
    assertThat(client.get("/metrics").body())
        .containsPattern("vllm:request_success_total\\{[^}]*finished_reason=\"stop\"[^}]*} [1-9]");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "no input              | {\"model\":\"m\"}                         | input: null",
        "number input          | {\"input\":5}                             | input: 5",
        "empty array           | {\"input\":[]}                            | input: []",
        "mixed array           | {\"input\":[\"a\",1]}                     | input: [\"a\",1]",
        "object in array       | {\"input\":[{\"text\":\"a\"}]}            | input:",
        "empty token array     | {\"input\":[[1,2],[]]}                    | input: [[1,2],[]]",
        "negative token id     | {\"input\":[1,-2]}                        | token ids are integers"
            + " >= 0",
        "fractional token id   | {\"input\":[[1.5]]}                       | token ids are integers"
            + " >= 0",
        "unknown format        | {\"input\":\"a\",\"encoding_format\":\"int8\"} | encoding_format:"
            + " \"int8\" (expected: \"float\" or \"base64\")",
        "dimensions 0          | {\"input\":\"a\",\"dimensions\":0}  | dimensions: 0 (expected:"
            + " an integer 1..384)",
        "dimensions too large  | {\"input\":\"a\",\"dimensions\":385}      | dimensions: 385"
            + " (expected: an integer 1..384)",
        "model not a string    | {\"input\":\"a\",\"model\":3}             | model: 3",
        "not json              | {\"input\":                               | not valid JSON",
        "not an object         | [\"a\"]                                   | must be a JSON object",
      })
  void badInputIs400WithAnOpenAiError(String name, String body, String message)
      throws Exception {
    HttpResponse<String> res = client.post("/v1/embeddings", body);

    assertThat(res.statusCode()).isEqualTo(400);
    JsonNode error = json(res.body()).path("error");
    assertThat(error.path("message").asText()).contains(message);
    assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
    assertThat(error.has("param")).isTrue();
    assertThat(error.has("code")).isTrue();
    assertThat(finished.all).isEmpty();
  }

  @Test
  void getIs405() throws Exception {
    assertThat(client.get("/v1/embeddings").statusCode()).isEqualTo(405);
  }

  @Test
  void statusFaultAnswersAtOnceWithAnOpenAiError() throws Exception {
    HttpResponse<String> res =
        client.post("/v1/embeddings", "{\"input\":\"fail me\"}", "x-emulator-fault", "status=429");

    assertThat(res.statusCode()).isEqualTo(429);
    assertThat(res.headers().firstValue("retry-after")).hasValue("1");
    JsonNode error = json(res.body()).path("error");
    assertThat(error.path("type").asText()).isEqualTo("rate_limit_error");
    assertThat(error.path("code").asInt()).isEqualTo(429);
    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.route()).isEqualTo("embeddings");
    assertThat(r.finishReason()).isEqualTo("status_429");
    assertThat(r.promptTokens()).isEqualTo(2);

    HttpResponse<String> unavailable =
        client.post("/v1/embeddings", "{\"input\":\"fail me\"}", "x-emulator-fault", "status=503");
    assertThat(unavailable.statusCode()).isEqualTo(503);
    assertThat(json(unavailable.body()).path("error").path("type").asText())
        .isEqualTo("server_error");
    assertThat(finished.next(Duration.ofSeconds(2)).finishReason()).isEqualTo("status_503");
  }

  @Test
  void badFaultHeaderIs400() throws Exception {
    HttpResponse<String> res =
        client.post("/v1/embeddings", "{\"input\":\"x\"}", "x-emulator-fault", "explode");
    assertThat(res.statusCode()).isEqualTo(400);
    assertThat(json(res.body()).path("error").path("message").asText())
        .startsWith("x-emulator-fault: ");
  }

  @Test
  void openAiSdkGetsTheVectorsAndUsage() throws Exception {
    // The SDK's default encoding, and base64 explicitly: it decodes both into the same floats.
    CreateEmbeddingResponse r =
        openai
            .embeddings()
            .create(
                EmbeddingCreateParams.builder()
                    .model("text-embedding-emulated")
                    .inputOfArrayOfStrings(List.of("the same text", "another text"))
                    .build());
    assertThat(r.model()).isEqualTo("text-embedding-emulated");
    assertThat(r.data()).hasSize(2);
    assertThat(r.data().get(0).index()).isZero();
    assertThat(r.data().get(1).index()).isEqualTo(1);
    assertThat(toArray(r.data().get(0).embedding()))
        .containsExactly(vectorOf(emulator, "the same text"));
    assertThat(toArray(r.data().get(1).embedding()))
        .containsExactly(vectorOf(emulator, "another text"));
    assertThat(r.usage().promptTokens()).isEqualTo(4 + 3);
    assertThat(r.usage().totalTokens()).isEqualTo(4 + 3);

    CreateEmbeddingResponse b64 =
        openai
            .embeddings()
            .create(
                EmbeddingCreateParams.builder()
                    .model("text-embedding-emulated")
                    .input("the same text")
                    .encodingFormat(EmbeddingCreateParams.EncodingFormat.BASE64)
                    .dimensions(16)
                    .build());
    List<Float> v = b64.data().get(0).embedding();
    assertThat(v).hasSize(16);
    assertThat(norm(toArray(v))).isCloseTo(1.0, within(1e-5));
    assertThat(b64.usage().promptTokens()).isEqualTo(4);

    CreateEmbeddingResponse tokens =
        openai
            .embeddings()
            .create(
                EmbeddingCreateParams.builder()
                    .model("text-embedding-emulated")
                    .inputOfArrayOfTokenArrays(List.of(List.of(1L, 2L, 3L), List.of(4L)))
                    .encodingFormat(EmbeddingCreateParams.EncodingFormat.FLOAT)
                    .build());
    assertThat(tokens.data()).hasSize(2);
    assertThat(tokens.usage().promptTokens()).isEqualTo(4);
  }

  private static HttpResponse<String> embed(Map<String, Object> body) throws Exception {
    return embed(client, body);
  }

  private static HttpResponse<String> embed(TestClient c, Map<String, Object> body)
      throws Exception {
    return c.post("/v1/embeddings", TestClient.JSON.writeValueAsString(body));
  }

  private static float[] vectorOf(Emulator e, String text) throws Exception {
    HttpResponse<String> res = embed(new TestClient(e.baseUri()), Map.of("input", text));
    assertThat(res.statusCode()).isEqualTo(200);
    return floats(json(res.body()).path("data").get(0).path("embedding"));
  }

  private static float[] floats(JsonNode array) {
    assertThat(array.isArray()).as("embedding is an array of floats: %s", array).isTrue();
    float[] v = new float[array.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = array.get(i).floatValue();
    }
    return v;
  }

  private static float[] toArray(List<Float> list) {
    List<Float> copy = new ArrayList<>(list);
    float[] v = new float[copy.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = copy.get(i);
    }
    return v;
  }

  private static double norm(float[] v) {
    return Math.sqrt(dot(v, v));
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
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
