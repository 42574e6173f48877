package dev.tokentap.proxy.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link UpstreamHttpCodec} on an {@link EmbeddedChannel}: for every way a response can be cut into
 * reads, the wire bytes handed on are exactly the body bytes received, the payload is the body
 * without its chunk framing, the message ends where it ends (so the next one on the connection is
 * read from its head), and every buffer is released.
 */
class UpstreamHttpCodecTest {
  /** Chunk framing a strict reader must take: extensions, upper-case and zero-padded sizes, bare LF, a trailer. */
  static final String EVENT = "data: {\"choices\":[\"x\"]}\n\n";
  static final String DONE = "data: [DONE]\n";
  static final String CHUNKED_BODY =
      Integer.toHexString(EVENT.length()).toUpperCase() + ";name=value\r\n" + EVENT + "\r\n"
          + "000" + Integer.toHexString(DONE.length()) + "\r\n" + DONE + "\r\n"
          + "2\nab\n"
          + "0\r\nx-trailer: 1\r\n\r\n";
  static final String CHUNKED_PAYLOAD = EVENT + DONE + "ab";
  static final String CHUNKED = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" + CHUNKED_BODY;
  static final String FIXED = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";

  /** What came out of the decoder, per message. */
  record Message(int status, String wire, String payload, boolean ended) {}

  static EmbeddedChannel channel(int requests, HttpMethod method) {
    EmbeddedChannel ch = new EmbeddedChannel(new UpstreamHttpCodec(4096, 8192));
    for (int i = 0; i < requests; i++) {
      ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, "/v1/x"));
    }
    ByteBuf sent;
    while ((sent = ch.readOutbound()) != null) {
      sent.release();
    }
    return ch;
  }

  static List<Message> drain(EmbeddedChannel ch) {
    List<Message> messages = new ArrayList<>();
    int status = 0;
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    ByteArrayOutputStream payload = new ByteArrayOutputStream();
    Object msg;
    while ((msg = ch.readInbound()) != null) {
      try {
        if (msg instanceof HttpResponse head) {
          assertThat(head.decoderResult().isSuccess()).isTrue();
          status = head.status().code();
        }
        if (msg instanceof HttpContent content) {
          ByteBuf w = content instanceof WireContent wc ? wc.wire() : content.content();
          wire.writeBytes(ByteBufUtil.getBytes(w));
          payload.writeBytes(ByteBufUtil.getBytes(content.content()));
          if (content instanceof LastHttpContent) {
            messages.add(new Message(status, wire.toString(StandardCharsets.ISO_8859_1), payload.toString(StandardCharsets.ISO_8859_1), true));
            wire.reset();
            payload.reset();
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }
    if (wire.size() > 0) {
      messages.add(new Message(status, wire.toString(StandardCharsets.ISO_8859_1), payload.toString(StandardCharsets.ISO_8859_1), false));
    }
    return messages;
  }

  static void feed(EmbeddedChannel ch, String bytes, int... cuts) {
    int from = 0;
    for (int cut : cuts) {
      ch.writeInbound(Unpooled.copiedBuffer(bytes.substring(from, cut), StandardCharsets.ISO_8859_1));
      from = cut;
    }
    ch.writeInbound(Unpooled.copiedBuffer(bytes.substring(from), StandardCharsets.ISO_8859_1));
  }

  @Test
  void chunkedThenFixedLengthOnOneConnectionCutAtEveryPairOfOffsets() {
    String both = CHUNKED + FIXED;
    for (int a = 1; a < both.length(); a += 3) {
      for (int b = a; b < both.length(); b += 7) {
        EmbeddedChannel ch = channel(2, HttpMethod.POST);
        feed(ch, both, a, b);
        List<Message> messages = drain(ch);
        assertThat(messages).as("cut at %d and %d", a, b).containsExactly(
            new Message(200, CHUNKED_BODY, CHUNKED_PAYLOAD, true),
            new Message(200, "{\"ok\":true}", "{\"ok\":true}", true));
        assertThat(ch.finishAndReleaseAll()).isFalse();
      }
    }
  }

  @Test
  void oneByteAtATime() {
    String both = CHUNKED + CHUNKED;
    EmbeddedChannel ch = channel(2, HttpMethod.POST);
    for (int i = 0; i < both.length(); i++) {
      ch.writeInbound(Unpooled.copiedBuffer(both.substring(i, i + 1), StandardCharsets.ISO_8859_1));
    }
    assertThat(drain(ch)).containsExactly(
        new Message(200, CHUNKED_BODY, CHUNKED_PAYLOAD, true), new Message(200, CHUNKED_BODY, CHUNKED_PAYLOAD, true));
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void aWholeStreamInOneReadIsOnePart() {
    EmbeddedChannel ch = channel(1, HttpMethod.POST);
    feed(ch, CHUNKED);
    assertThat((Object) ch.readInbound()).isInstanceOf(HttpResponse.class);
    WireContent.Last part = ch.readInbound();
    try {
      assertThat(part.wire().toString(StandardCharsets.ISO_8859_1)).isEqualTo(CHUNKED_BODY);
      assertThat(part.content().toString(StandardCharsets.ISO_8859_1)).isEqualTo(CHUNKED_PAYLOAD);
    } finally {
      assertThat(part.release()).isTrue();
    }
    assertThat((Object) ch.readInbound()).isNull();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  /**
   * A part is whole chunks exactly when its read started and ended between two chunks (or at the
   * body's end): cut at every offset, the parts that say so are those, and a body with a length
   * never says so.
   */
  @Test
  void aPartIsWholeChunksWhenItsReadStartsAndEndsBetweenChunks() {
    int bodyStart = CHUNKED.length() - CHUNKED_BODY.length();
    java.util.Set<Integer> boundaries = new java.util.HashSet<>();
    boundaries.add(bodyStart); // before the first chunk's size line
    int eventChunkEnd = CHUNKED.indexOf(EVENT) + EVENT.length() + 2; // its data and CRLF
    int doneChunkEnd = CHUNKED.indexOf(DONE) + DONE.length() + 2;
    int abChunkEnd = CHUNKED.indexOf("2\nab\n") + 5;
    boundaries.addAll(List.of(eventChunkEnd, doneChunkEnd, abChunkEnd, CHUNKED.length()));
    for (int cut = bodyStart + 1; cut < CHUNKED.length(); cut++) {
      EmbeddedChannel ch = channel(1, HttpMethod.POST);
      feed(ch, CHUNKED, bodyStart, cut);
      assertThat((Object) ch.readInbound()).isInstanceOf(HttpResponse.class);
      WireContent first = ch.readInbound();
      WireContent second = ch.readInbound();
      try {
        assertThat(first.wholeChunks()).as("body up to %d", cut).isEqualTo(boundaries.contains(cut));
        assertThat(second.wholeChunks()).as("body from %d", cut).isEqualTo(boundaries.contains(cut));
        assertThat(second).isInstanceOf(LastHttpContent.class);
      } finally {
        first.release();
        second.release();
      }
      assertThat(ch.finishAndReleaseAll()).isFalse();
    }
    EmbeddedChannel ch = channel(1, HttpMethod.POST);
    feed(ch, FIXED);
    assertThat((Object) ch.readInbound()).isInstanceOf(HttpResponse.class);
    WireContent json = ch.readInbound();
    assertThat(json.wholeChunks()).isFalse();
    json.release();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void theResponseToHeadHasNoBodyAndTheNextResponseFollows() {
    EmbeddedChannel ch = channel(1, HttpMethod.HEAD);
    ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/x"));
    ReferenceCountUtil.release(ch.readOutbound());
    feed(ch, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n" + FIXED);
    assertThat(drain(ch)).containsExactly(new Message(200, "", "", true), new Message(200, "{\"ok\":true}", "{\"ok\":true}", true));
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void aBodyWithoutLengthEndsAtTheClose() {
    EmbeddedChannel ch = channel(1, HttpMethod.POST);
    feed(ch, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nfirst ", 40);
    ch.writeInbound(Unpooled.copiedBuffer("second", StandardCharsets.ISO_8859_1));
    ch.close();
    assertThat(drain(ch)).containsExactly(new Message(200, "first second", "first second", true));
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void aChunkedBodyCutByTheCloseHasNoEnd() {
    EmbeddedChannel ch = channel(1, HttpMethod.POST);
    feed(ch, CHUNKED.substring(0, CHUNKED.length() - 20));
    ch.close();
    List<Message> messages = drain(ch);
    assertThat(messages).hasSize(1);
    assertThat(messages.get(0).ended()).isFalse();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void malformedChunkFramingBreaksTheConnection() {
    for (String bad : List.of("zz\r\n", "5\r\nabcdeXY", "\r\n", "1234567890abcdef0\r\n")) {
      EmbeddedChannel ch = channel(1, HttpMethod.POST);
      assertThatThrownBy(() -> feed(ch, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + bad))
          .as(bad).isInstanceOf(CorruptedFrameException.class);
      drain(ch);
      ch.finishAndReleaseAll();
    }
  }

  @Test
  void anEndlessTrailerSectionIsRefused() {
    EmbeddedChannel ch = channel(1, HttpMethod.POST);
    String trailers = "x-t: " + "a".repeat(9000) + "\r\n";
    assertThatThrownBy(() -> feed(ch, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + trailers))
        .isInstanceOf(CorruptedFrameException.class).hasMessageContaining("trailer section too large");
    drain(ch);
    ch.finishAndReleaseAll();
  }
}
