package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.Fixtures;
import dev.tokentap.testkit.RawHttpClient;
import dev.tokentap.testkit.RawUpstream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The response body reaches the client as the upstream framed it, byte for byte, chunk sizes,
 * extensions and trailers included (docs/performance.md, "Zero-copy response relay"), through a
 * real proxy between a raw upstream and a raw client; the record counts the same as for any other
 * framing; and the client connection carries the next response after it.
 */
class WireRelayTest {
  /** Asks for usage itself, so nothing is injected or filtered: the body passes as it came. */
  static final String WITH_USAGE =
      "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final byte[] STREAM = Fixtures.stream("openai-chat-usage.sse");
  static final String JSON = "{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
      + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}";

  static RawUpstream upstream;
  static ProxyHarness proxy;
  /** The chunked body exactly as the upstream writes it, one write per piece. */
  static byte[][] pieces;

  @BeforeAll
  static void start() throws Exception {
    pieces = oddlyFramed(STREAM);
    upstream = new RawUpstream((request, connection) -> {
      if (request.requestLine().contains("/v1/chat/completions") && request.header("x-json") == null) {
        connection.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (byte[] piece : pieces) {
          connection.write(piece);
          Thread.sleep(2);
        }
      } else {
        connection.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + JSON.length() + "\r\n\r\n" + JSON);
      }
    });
    proxy = new ProxyHarness(upstream.baseUrl());
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    upstream.close();
  }

  /**
   * The stream in chunks of uneven sizes (an event split across chunks, several in one), written
   * with the framing a strict relay would normalise: upper-case and zero-padded sizes, extensions,
   * a trailer.
   */
  static byte[][] oddlyFramed(byte[] body) {
    int[] sizes = {7, 150, 1, 333, 64};
    java.util.List<byte[]> out = new java.util.ArrayList<>();
    int at = 0;
    for (int i = 0; at < body.length; i++) {
      int n = Math.min(sizes[i % sizes.length], body.length - at);
      String size = (i % 2 == 0 ? "00" : "") + Integer.toHexString(n).toUpperCase() + (i % 3 == 0 ? ";ext=" + i : "");
      ByteArrayOutputStream chunk = new ByteArrayOutputStream();
      chunk.writeBytes((size + "\r\n").getBytes(StandardCharsets.US_ASCII));
      chunk.write(body, at, n);
      chunk.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
      out.add(chunk.toByteArray());
      at += n;
    }
    out.add("0\r\nx-upstream-trailer: done\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    return out.toArray(byte[][]::new);
  }

  static byte[] wireBody() {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (byte[] p : pieces) {
      all.writeBytes(p);
    }
    return all.toByteArray();
  }

  @Test
  void aChunkedStreamReachesTheClientByteForByteAndTheConnectionCarriesOn() throws Exception {
    byte[] expected = wireBody();
    try (RawHttpClient c = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
      for (int round = 0; round < 2; round++) {
        proxy.finished.clear();
        c.post("/v1/chat/completions", WITH_USAGE);
        RawHttpClient.Response head = c.readHead();
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("transfer-encoding")).isEqualTo("chunked");
        assertThat(c.readBytes(expected.length)).as("round %d", round).isEqualTo(expected);

        FinishedRequest record = proxy.next();
        assertThat(record.outcome()).isEqualTo(Outcome.OK);
        assertThat(record.responseBytes()).isEqualTo(STREAM.length); // the payload, framing excluded
        assertThat(record.outputTokens()).isEqualTo(30); // the fixture's usage (fixtures README)

        // The same connection then carries a response with a Content-Length, also as it came.
        c.post("/v1/chat/completions", WITH_USAGE, "x-json: 1");
        RawHttpClient.Response json = c.readHead();
        assertThat(json.header("content-length")).isEqualTo(String.valueOf(JSON.length()));
        assertThat(new String(c.readBytes(JSON.length()), StandardCharsets.UTF_8)).isEqualTo(JSON);
        assertThat(proxy.next().outputTokens()).isEqualTo(1);
      }
    }
  }

  @Test
  void anHttp10ClientGetsThePayloadUntilTheClose() throws Exception {
    try (RawHttpClient c = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
      byte[] body = WITH_USAGE.getBytes(StandardCharsets.UTF_8);
      c.send("POST /v1/chat/completions HTTP/1.0\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n", body);
      RawHttpClient.Response response = c.read();
      assertThat(response.header("transfer-encoding")).isNull();
      assertThat(response.complete()).isTrue();
      assertThat(Arrays.equals(response.body(), STREAM)).isTrue();
    }
  }
}
