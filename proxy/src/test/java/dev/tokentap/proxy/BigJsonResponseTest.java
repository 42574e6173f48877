package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.FinishReason;
import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.TokenSource;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.RawHttpClient;
import dev.tokentap.testkit.RawUpstream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A non-streaming chat completion four times {@code max-inspected-response-body}, with its usage at
 * the end as OpenAI sends it: the client gets every byte as sent, and the tokens are counted, since
 * the body is read through its outline as it passes instead of being kept (docs/reliability.md).
 */
class BigJsonResponseTest {
  static final int OUTPUT_TOKENS = 4_194_304;
  static final byte[] BODY = body(16 << 20);
  static RawUpstream upstream;
  static ProxyHarness proxy;

  static byte[] body(int size) {
    StringBuilder json = new StringBuilder(size + 512)
        .append("{\"id\":\"chatcmpl-big\",\"object\":\"chat.completion\",\"model\":\"m\",\"choices\":[{\"index\":0,")
        .append("\"message\":{\"role\":\"assistant\",\"content\":\"");
    while (json.length() < size) {
      json.append("tok \\\"é\\\" ");
    }
    json.append("\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":17,\"completion_tokens\":")
        .append(OUTPUT_TOKENS).append(",\"total_tokens\":").append(OUTPUT_TOKENS + 17)
        .append(",\"prompt_tokens_details\":{\"cached_tokens\":5}}}\n");
    return json.toString().getBytes(StandardCharsets.UTF_8);
  }

  @BeforeAll
  static void start() throws Exception {
    upstream = new RawUpstream((request, c) -> {
      boolean chunked = request.requestLine().contains("chunked");
      c.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
          + (chunked ? "Transfer-Encoding: chunked\r\n\r\n" : "Content-Length: " + BODY.length + "\r\n\r\n"));
      if (!chunked) {
        c.write(BODY);
        return;
      }
      for (int at = 0; at < BODY.length; at += 100_000) {
        int n = Math.min(100_000, BODY.length - at);
        c.write(Integer.toHexString(n) + "\r\n");
        c.write(java.util.Arrays.copyOfRange(BODY, at, at + n));
        c.write("\r\n");
      }
      c.write("0\r\n\r\n");
    });
    proxy = new ProxyHarness(upstream.baseUrl(), Map.of("tokentap.proxy.max-inspected-response-body", "4MiB"));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    upstream.close();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"/v1/chat/completions", "/v1/chat/completions?chunked"})
  void theClientGetsEveryByteAndTheUsageAtTheEndIsCounted(String path) throws Exception {
    double outputBefore = tokens("output");
    var response = proxy.post(path, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).hasSize(BODY.length).isEqualTo(BODY);
    upstream.takeRequest();
    assertCounted(proxy.next());
    assertThat(tokens("output") - outputBefore).isEqualTo(OUTPUT_TOKENS);
  }

  @Test
  void aClientThatPausesThenReadsGetsEveryByteAndTheTokensCount() throws Exception {
    try (RawHttpClient client = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
      client.socket().setReceiveBufferSize(16 * 1024);
      client.post("/v1/chat/completions", "{\"model\":\"m\",\"messages\":[]}");
      Thread.sleep(1000); // the proxy stops reading at the write-buffer mark; the meter holds no body
      RawHttpClient.Response head = client.readHead();
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      assertThat(client.readBody(head, body)).isTrue();
      assertThat(body.toByteArray()).isEqualTo(BODY);
    }
    upstream.takeRequest();
    assertCounted(proxy.next());
  }

  private static void assertCounted(FinishedRequest record) {
    assertThat(record.outcome()).isEqualTo(Outcome.OK);
    assertThat(record.responseBytes()).isEqualTo(BODY.length);
    assertThat(record.meter().tokenSource()).isEqualTo(TokenSource.USAGE);
    assertThat(record.meter().outputTokens()).isEqualTo(OUTPUT_TOKENS);
    assertThat(record.meter().inputTokens()).isEqualTo(17);
    assertThat(record.meter().cachedInputTokens()).isEqualTo(5);
    assertThat(record.meter().finishReason()).isEqualTo(FinishReason.STOP);
  }

  private static double tokens(String type) throws Exception {
    Pattern line = Pattern.compile("^tokentap_tokens_total\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE);
    Matcher m = line.matcher(proxy.metrics());
    double sum = 0;
    while (m.find()) {
      if (m.group(1).contains("type=\"" + type + "\"") && m.group(1).contains("route=\"chat\"")) {
        sum += Double.parseDouble(m.group(2));
      }
    }
    return sum;
  }
}
