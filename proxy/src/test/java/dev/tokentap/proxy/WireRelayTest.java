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
import java.util.List;
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

  /** Asks for no usage, as the OpenAI SDKs do: tokentap injects it and takes the usage event out. */
  static final String WITHOUT_USAGE = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  static RawUpstream upstream;
  static ProxyHarness proxy;
  /** The chunked body exactly as the upstream writes it, one write per piece. */
  static byte[][] pieces;
  /** The same stream one event per chunk, as servers flush it, and the index of its usage event. */
  static byte[][] eventChunks;
  static int usageChunk;
  /** What the upstream writes for a request with {@code x-pieces}, one write per piece. */
  static volatile byte[][] nextPieces;

  @BeforeAll
  static void start() throws Exception {
    pieces = oddlyFramed(STREAM);
    eventChunks = chunkPerEvent(STREAM);
    upstream = new RawUpstream((request, connection) -> {
      if (request.header("x-pieces") != null) {
        connection.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
        byte[][] script = nextPieces;
        for (int i = 0; i < script.length; i++) {
          // One event per read, and a longer pause that keeps the usage event out of the read
          // before it; random pieces run on, now and then apart.
          Thread.sleep(script != eventChunks ? (i % 4 == 0 ? 1 : 0) : i == usageChunk ? 30 : 3);
          connection.write(script[i]);
        }
      } else if (request.requestLine().contains("/v1/chat/completions") && request.header("x-json") == null) {
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

  /** One chunk per event (an extension on every third, sizes in upper case, every other zero-padded), then the last chunk. */
  static byte[][] chunkPerEvent(byte[] body) {
    String all = new String(body, StandardCharsets.ISO_8859_1);
    java.util.List<byte[]> out = new java.util.ArrayList<>();
    int at = 0;
    for (int i = 0; at < all.length(); i++) {
      int end = all.indexOf("\n\n", at) + 2;
      String event = all.substring(at, end);
      if (event.contains("\"usage\":{")) {
        usageChunk = i;
      }
      String size = (i % 2 == 0 ? "0" : "") + Integer.toHexString(event.length()).toUpperCase() + (i % 3 == 0 ? ";ev=" + i : "");
      out.add((size + "\r\n" + event + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      at = end;
    }
    out.add("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    return out.toArray(byte[][]::new);
  }

  static byte[] concat(byte[][] parts, int from, int to) {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (int i = from; i < to; i++) {
      all.writeBytes(parts[i]);
    }
    return all.toByteArray();
  }

  /** The stream less the usage event tokentap injected. */
  static String streamWithoutUsage() {
    String all = new String(STREAM, StandardCharsets.ISO_8859_1);
    int usage = all.indexOf("\"usage\":{");
    int start = all.lastIndexOf("\n\n", usage) + 2;
    int end = all.indexOf("\n\n", usage) + 2;
    return all.substring(0, start) + all.substring(end);
  }

  /**
   * With usage injected, a read that is whole chunks of whole events, none of them the usage
   * event, reaches the client exactly as the upstream framed it (extensions and padded sizes show
   * it was not framed again); the read with the usage event is framed anew without it. The
   * upstream writes one chunk per event 3 ms apart, so each is a read of its own unless the proxy
   * stalls; the test asks for most of them to arrive as they were sent, not all.
   */
  @Test
  void withUsageFilteredReadsOfWholeEventsStillPassAsTheUpstreamFramedThem() throws Exception {
    nextPieces = eventChunks;
    try (RawHttpClient c = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
      for (int round = 0; round < 2; round++) {
        proxy.finished.clear();
        c.post("/v1/chat/completions", WITHOUT_USAGE, "x-pieces: 1");
        RawHttpClient.Response head = c.readHead();
        assertThat(head.header("transfer-encoding")).isEqualTo("chunked");
        List<String> chunks = rawChunks(c);
        assertThat(String.join("", chunks.stream().map(WireRelayTest::chunkData).toList()))
            .as("round %d", round).isEqualTo(streamWithoutUsage());
        List<String> sent = java.util.stream.IntStream.range(0, usageChunk - 1)
            .mapToObj(i -> new String(eventChunks[i], StandardCharsets.ISO_8859_1)).toList();
        assertThat(sent.stream().filter(chunks::contains).count())
            .as("round %d: chunks before the usage event that reached the client as the upstream framed them", round)
            .isGreaterThan(sent.size() / 2);
        assertThat(chunks.get(chunks.size() - 1)).isEqualTo("0\r\n\r\n");
        FinishedRequest record = proxy.next();
        assertThat(record.outcome()).isEqualTo(Outcome.OK);
        assertThat(record.outputTokens()).isEqualTo(30);
      }
    }
  }

  /** A chunked body's chunks as the client received them, framing included, the last chunk last. */
  static List<String> rawChunks(RawHttpClient c) throws Exception {
    List<String> chunks = new java.util.ArrayList<>();
    while (true) {
      StringBuilder sizeLine = new StringBuilder();
      while (sizeLine.length() < 2 || sizeLine.charAt(sizeLine.length() - 1) != '\n') {
        byte[] b = c.readBytes(1);
        assertThat(b).as("the body ended inside a chunk-size line").hasSize(1);
        sizeLine.append((char) (b[0] & 0xFF));
      }
      int size = Integer.parseInt(sizeLine.toString().split("[;\r]")[0].trim(), 16);
      byte[] rest = c.readBytes(size + 2); // data and CRLF (the last chunk: no trailers here)
      chunks.add(sizeLine + new String(rest, StandardCharsets.ISO_8859_1));
      if (size == 0) {
        return chunks;
      }
    }
  }

  /** The data of one raw chunk. */
  static String chunkData(String chunk) {
    int data = chunk.indexOf('\n') + 1;
    return chunk.substring(data, chunk.length() - 2);
  }

  /** The same stream written in random pieces that cut chunks, events and framing alike: the client always gets it less the usage event. */
  @Test
  void withUsageFilteredAnyCutOfTheUpstreamsChunksGivesTheStreamLessTheUsageEvent() throws Exception {
    byte[] wire = concat(eventChunks, 0, eventChunks.length);
    java.util.Random random = new java.util.Random(13);
    try (RawHttpClient c = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
      for (int round = 0; round < 12; round++) {
        java.util.List<byte[]> cut = new java.util.ArrayList<>();
        for (int at = 0; at < wire.length; ) {
          int n = Math.min(wire.length - at, 1 + random.nextInt(round % 2 == 0 ? 40 : 600));
          cut.add(Arrays.copyOfRange(wire, at, at + n));
          at += n;
        }
        nextPieces = cut.toArray(byte[][]::new);
        proxy.finished.clear();
        c.post("/v1/chat/completions", WITHOUT_USAGE, "x-pieces: 1");
        RawHttpClient.Response response = c.read();
        assertThat(response.complete()).isTrue();
        assertThat(response.bodyText()).as("round %d", round).isEqualTo(streamWithoutUsage());
        assertThat(proxy.next().outputTokens()).isEqualTo(30);
      }
    }
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
