package dev.tokentap.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link RequestHeadCheck} on heads as the client codec decodes them from bytes (so a high byte or a
 * control byte reaches the check exactly as Netty hands it over). The end-to-end behaviour, through
 * sockets, is {@code faults.StrictRequestTargetTest}.
 */
class RequestHeadCheckTest {
  /** The head decoded from {@code raw} (ISO-8859-1: one char per byte). */
  private static HttpRequest decode(String raw) {
    HttpRequest request = decodeMaybeInvalid(raw);
    assertThat(request.decoderResult().isSuccess()).as("decoded: %s", request.decoderResult()).isTrue();
    return request;
  }

  /** The head, or the invalid message Netty's decoder makes of it (which the relay answers with 400). */
  private static HttpRequest decodeMaybeInvalid(String raw) {
    EmbeddedChannel ch = new EmbeddedChannel(new ClientHttpCodec(4096, 8192));
    try {
      ch.writeInbound(Unpooled.wrappedBuffer(raw.getBytes(StandardCharsets.ISO_8859_1)));
      Object msg = ch.readInbound();
      assertThat(msg).isInstanceOf(HttpRequest.class);
      ReferenceCountUtil.release(msg);
      return (HttpRequest) msg;
    } finally {
      Object rest;
      while ((rest = ch.readInbound()) != null) {
        ReferenceCountUtil.release(rest);
      }
      ch.finishAndReleaseAll();
    }
  }

  private static String unescape(String s) {
    return s.replace("\\r", "\r").replace("\\n", "\n").replace("\\x00", "\u0000").replace("\\x01", "\u0001")
        .replace("\\x1b", "\u001b").replace("\\x7f", "\u007f").replace("\\xe9", "\u00e9");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "origin-form                         | POST /v1/chat/completions?x=1 HTTP/1.1 | Host: t   | 0   | /v1/chat/completions?x=1",
      "HTTP/1.0 without Host               | GET /health HTTP/1.0                   |           | 0   | /health",
      "absolute-form, same host            | POST http://t/v1/chat/completions HTTP/1.1 | Host: t | 0 | /v1/chat/completions",
      "absolute-form, default port, case   | GET HTTP://T:80/v1/models?a=b HTTP/1.1 | Host: t   | 0   | /v1/models?a=b",
      "absolute-form, https default port   | GET https://t/x HTTP/1.1               | Host: t:443 | 0 | /x",
      "absolute-form, no path              | GET http://t:8080 HTTP/1.1             | Host: t:8080 | 0 | /",
      "absolute-form, query only           | GET http://t?q HTTP/1.1                | Host: t   | 0   | /?q",
      "absolute-form, other host           | POST http://other/v1/chat/completions HTTP/1.1 | Host: t | 400 | ",
      "absolute-form, other port           | GET http://t:81/ HTTP/1.1              | Host: t   | 400 | ",
      "absolute-form, userinfo             | GET http://u@t/ HTTP/1.1               | Host: t   | 400 | ",
      "absolute-form, other scheme         | GET ftp://t/ HTTP/1.1                  | Host: t   | 400 | ",
      "absolute-form, 1.0 without Host     | GET http://t/ HTTP/1.0                 |           | 400 | ",
      "authority-form                      | GET t:443 HTTP/1.1                     | Host: t   | 400 | ",
      "asterisk with OPTIONS               | OPTIONS * HTTP/1.1                     | Host: t   | 0   | *",
      "asterisk with GET                   | GET * HTTP/1.1                         | Host: t   | 400 | ",
      "NUL in the target                   | GET /a\\x00b HTTP/1.1                  | Host: t   | 400 | ",
      "0x01 in the target                  | GET /a\\x01b HTTP/1.1                  | Host: t   | 400 | ",
      "ESC in the target                   | GET /a\\x1bb HTTP/1.1                  | Host: t   | 400 | ",
      "DEL in the target                   | GET /a\\x7fb HTTP/1.1                  | Host: t   | 400 | ",
      "0xE9 in the target                  | GET /caf\\xe9 HTTP/1.1                 | Host: t   | 400 | ",
      "CONNECT                             | CONNECT t:443 HTTP/1.1                 | Host: t   | 405 | ",
      "TRACE                               | TRACE / HTTP/1.1                       | Host: t   | 405 | ",
      "unknown method                      | PROPFIND / HTTP/1.1                    | Host: t   | 501 | ",
      "lower-case method                   | get / HTTP/1.1                         | Host: t   | 501 | ",
      "method that is not a token (Netty)  | G(T / HTTP/1.1                         | Host: t   | 400 | ",
      "HTTP/1.2                            | GET / HTTP/1.2                         | Host: t   | 505 | ",
      "HTTP/9.9                            | GET / HTTP/9.9                         | Host: t   | 505 | ",
      "HTTP/2.0                            | GET / HTTP/2.0                         | Host: t   | 505 | ",
      "HTTP/0.9                            | GET / HTTP/0.9                         | Host: t   | 505 | ",
      "not HTTP (Netty)                    | GET / FOO/1.1                          | Host: t   | 400 | ",
      "duplicate Host                      | GET / HTTP/1.1                         | Host: t\\r\\nHost: u | 400 | ",
      "duplicate Host, same value          | GET / HTTP/1.1                         | Host: t\\r\\nHost: t | 400 | ",
      "missing Host on 1.1                 | GET / HTTP/1.1                         |           | 400 | ",
      "Host with a slash                   | GET / HTTP/1.1                         | Host: t/x | 400 | ",
      "Host with userinfo                  | GET / HTTP/1.1                         | Host: u@t | 400 | ",
      "empty Host                          | GET / HTTP/1.1                         | Host:     | 400 | ",
      "IPv6 Host                           | GET / HTTP/1.1                         | Host: [::1]:8080 | 0 | /",
  })
  void checksTheHead(String name, String line, String hostLines, int status, String uri) {
    String head = unescape(line) + "\r\n" + (hostLines == null ? "" : unescape(hostLines) + "\r\n") + "\r\n";
    HttpRequest request = decodeMaybeInvalid(head);
    if (request.decoderResult().isFailure()) {
      // Refused by Netty's decoder already: the relay answers a malformed head with 400.
      assertThat(name).endsWith("(Netty)");
      assertThat(status).isEqualTo(400);
      return;
    }
    RequestHeadCheck.Refusal refusal = RequestHeadCheck.check(request);
    if (status == 0) {
      assertThat(refusal).isNull();
      assertThat(request.uri()).isEqualTo(uri);
    } else {
      assertThat(refusal).isNotNull();
      assertThat(refusal.status().code()).isEqualTo(status);
      assertThat(refusal.message()).startsWith("tokentap: ");
      assertThat(refusal.http2Preface()).isFalse();
    }
  }

  @Test
  void theNonAsciiByteReachesTheCheckAsItsIsoLatin1Char() {
    // Netty reads the request line as ISO-8859-1 and its encoder writes UTF-8: 0xE9 would leave as C3 A9.
    assertThat(decode("GET /caf\u00e9 HTTP/1.1\r\nHost: t\r\n\r\n").uri()).isEqualTo("/caf\u00e9");
  }

  @Test
  void theHttp2PrefaceIsRecognisedAndAnsweredWithAGoAway() {
    HttpRequest request = decode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    RequestHeadCheck.Refusal refusal = RequestHeadCheck.check(request);
    assertThat(refusal.http2Preface()).isTrue();
    assertThat(refusal.status().code()).isEqualTo(505);
    ByteBuf frames = RequestHeadCheck.goAway(ByteBufAllocator.DEFAULT, refusal.message());
    try {
      assertThat(frames.readUnsignedMedium()).isZero(); // SETTINGS: empty
      assertThat(frames.readByte()).isEqualTo((byte) 0x4);
      assertThat(frames.readByte()).isZero();
      assertThat(frames.readInt()).isZero();
      int length = frames.readUnsignedMedium();
      assertThat(frames.readByte()).isEqualTo((byte) 0x7); // GOAWAY
      assertThat(frames.readByte()).isZero();
      assertThat(frames.readInt()).isZero(); // stream 0
      assertThat(frames.readInt()).isZero(); // last stream id
      assertThat(frames.readInt()).isEqualTo(0xd); // HTTP_1_1_REQUIRED
      assertThat(frames.readCharSequence(length - 8, StandardCharsets.US_ASCII).toString()).contains("HTTP/1.1");
      assertThat(frames.isReadable()).isFalse();
    } finally {
      frames.release();
    }
  }
}
