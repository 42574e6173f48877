package dev.tokentap.emulator;

import static dev.tokentap.emulator.ClientDisconnectTest.awaitStats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.SocketException;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Responses, Anthropic and Ollama APIs share the exchange: a client that hangs up cancels the
 * sequence, the connection faults and stalls act on them as on the OpenAI APIs, and {@code
 * /metrics} counts their tokens like any other request's.
 */
class NativeApisExchangeTest {

  private static Emulator emulator;
  private static final Recorder finished = new Recorder();

  @BeforeAll
  static void start() throws Exception {
    emulator =
        Emulator.start(
            EmulatorSettings.defaults()
                .withPort(0)
                .withProfile(EngineProfile.fast().withBaseStep(Duration.ofMillis(5))));
    emulator.addListener(finished);
  }

  @AfterAll
  static void stop() {
    emulator.close();
  }

  @BeforeEach
  void clear() {
    finished.clear();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "/v1/responses|{\"input\":\"long\",\"stream\":true,\"max_output_tokens\":10000,\"ignore_eos\":true}|event:"
            + " response.output_text.delta",
        "/v1/messages|{\"messages\":[{\"role\":\"user\",\"content\":\"long\"}],\"stream\":true,\"max_tokens\":10000,\"ignore_eos\":true}|event:"
            + " content_block_delta",
        "/api/chat|{\"messages\":[{\"role\":\"user\",\"content\":\"long\"}],\"options\":{\"num_predict\":10000},\"ignore_eos\":true}|\"done\":false",
        "/api/generate|{\"prompt\":\"long\",\"options\":{\"num_predict\":10000},\"ignore_eos\":true}|\"done\":false"
      })
  void disconnectMidStreamCancels(String path, String body, String tokenMarker) throws Exception {
    long closedAt;
    try (RawHttp raw = new RawHttp(emulator.baseUri())) {
      raw.post(path, body);
      raw.readUntil(tokenMarker, 5);
      closedAt = System.nanoTime();
    }

    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.finishReason()).isEqualTo("cancelled");
    assertThat(r.disconnectNanos() - closedAt).isBetween(0L, Duration.ofMillis(100).toNanos());
    assertThat(r.completionTokens()).isBetween(5, 100);
    awaitStats(emulator, s -> s.running() == 0 && s.kvCacheUsage() == 0);
  }

  /** Ten tokens without end-of-sequence, streamed, and what marks one token in each API. */
  static final String TEN_TOKENS =
      """
/v1/responses|{"input":"f","stream":true,"max_output_tokens":10,"ignore_eos":true}|event: response.output_text.delta
/v1/messages|{"messages":[{"role":"user","content":"f"}],"stream":true,"max_tokens":10,"ignore_eos":true}|event: content_block_delta
/api/chat|{"messages":[{"role":"user","content":"f"}],"options":{"num_predict":10},"ignore_eos":true}|"done":false
""";

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = TEN_TOKENS)
  void closeAfterTruncatesWithoutTheChunkedTerminator(String path, String body, String marker)
      throws Exception {
    String text;
    try (RawHttp raw = new RawHttp(emulator.baseUri())) {
      raw.post(path, body, "x-emulator-fault", "close-after=2");
      text = raw.readToEnd(); // EOF, not a reset
    }
    assertThat(RawHttp.occurrences(text, marker)).isEqualTo(2);
    assertThat(text).doesNotEndWith("0\r\n\r\n");
    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.finishReason()).isEqualTo("closed");
    assertThat(r.completionTokens()).isEqualTo(2);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = TEN_TOKENS)
  void resetAfterEndsTheConnectionWithRst(String path, String body, String marker)
      throws Exception {
    try (RawHttp raw = new RawHttp(emulator.baseUri())) {
      raw.post(path, body, "x-emulator-fault", "reset-after=3");
      assertThatThrownBy(raw::readToEnd)
          .isInstanceOf(SocketException.class)
          .hasMessageContaining("reset");
    }
    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.finishReason()).isEqualTo("reset");
    assertThat(r.completionTokens()).isEqualTo(3);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = TEN_TOKENS)
  void stallAfterPausesThenCompletes(String path, String body, String marker) throws Exception {
    long start = System.nanoTime();
    String text;
    try (RawHttp raw = new RawHttp(emulator.baseUri())) {
      raw.post(path, body, "x-emulator-fault", "stall-after=3:300ms", "Connection", "close");
      text = raw.readToEnd();
    }
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(Duration.ofMillis(290).toNanos());
    assertThat(RawHttp.occurrences(text, marker)).isEqualTo(10);
    assertThat(text).endsWith("0\r\n\r\n");
    EmulatedRequest r = finished.next(Duration.ofSeconds(2));
    assertThat(r.finishReason()).isEqualTo("length");
    assertThat(r.completionTokens()).isEqualTo(10);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "/v1/responses|{\"input\":\"count me\",\"max_output_tokens\":7,\"ignore_eos\":true}",
        "/v1/messages|{\"messages\":[{\"role\":\"user\",\"content\":\"count"
            + " me\"}],\"max_tokens\":7,\"ignore_eos\":true}",
        "/api/chat|{\"messages\":[{\"role\":\"user\",\"content\":\"count"
            + " me\"}],\"stream\":false,\"options\":{\"num_predict\":7},\"ignore_eos\":true}"
      })
  void metricsCountTheirTokens(String path, String body) throws Exception {
    TestClient client = new TestClient(emulator.baseUri());
    double prompt = sample(client, "vllm:prompt_tokens_total{");
    double generated = sample(client, "vllm:generation_tokens_total{");
    double length =
        sample(client, "vllm:request_success_total{engine=\"0\",finished_reason=\"length\"");

    assertThat(client.post(path, body).statusCode()).isEqualTo(200);
    EmulatedRequest r = finished.next(Duration.ofSeconds(2));

    // The engine thread adds a step's tokens to its counters after handing the step's output to
    // the connections, so a scrape right after the response may miss the last step (once in CI:
    // 6 of 7); like Prometheus, read until the count settles.
    long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    while (sample(client, "vllm:generation_tokens_total{") - generated < 7 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(sample(client, "vllm:generation_tokens_total{") - generated).isEqualTo(7);
    assertThat(sample(client, "vllm:prompt_tokens_total{") - prompt).isEqualTo(r.promptTokens());
    assertThat(sample(client, "vllm:request_success_total{engine=\"0\",finished_reason=\"length\""))
        .isEqualTo(length + 1);
  }

  private static double sample(TestClient client, String prefix) throws Exception {
    for (String line : client.get("/metrics").body().split("\n")) {
      if (line.startsWith(prefix)) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError("no " + prefix);
  }
}
