package dev.tokentap.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.metrics.TokentapMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ClientTimeouts} behind the real client codec, on a mock clock: which phase is timed, from
 * when, and what happens when it expires. The socket-level behaviour is in {@code
 * faults/ClientLimitsTest}.
 */
class ClientTimeoutsTest {
  static final Settings.ClientLimits LIMITS =
      new Settings.ClientLimits(Duration.ofSeconds(30), Duration.ofSeconds(75), Duration.ofSeconds(60), 10, 16);

  final MockTicker clock = Ticker.newMockTicker();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final List<Object> events = new ArrayList<>();
  final List<Object> requests = new ArrayList<>();
  EmbeddedChannel ch;

  @BeforeEach
  void open() {
    TokentapMetrics metrics = new TokentapMetrics(registry, List.of());
    metrics.registerClientLimits();
    ch = EmbeddedChannel.builder().ticker(clock).handlers(
        new ClientHttpCodec(4096, 8192),
        new ClientTimeouts(LIMITS, metrics),
        new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof HttpObject o && o.decoderResult().isFailure())) {
              requests.add(msg.getClass().getSimpleName()); // not the decoder's word on a head cut by the close
            }
            ReferenceCountUtil.release(msg);
          }

          @Override
          public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            events.add(evt);
          }
        }).build();
  }

  @AfterEach
  void close() {
    assertThat(ch.finishAndReleaseAll()).as("nothing left unread in the channel").isFalse();
  }

  void advance(long seconds) {
    clock.advance(seconds, TimeUnit.SECONDS);
    ch.runPendingTasks();
  }

  void send(String bytes) {
    ch.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1));
  }

  double closed(String reason) {
    return registry.find("tokentap.client.connections.closed").tag("reason", reason).counter().count();
  }

  String written() {
    StringBuilder sb = new StringBuilder();
    Object out;
    while ((out = ch.readOutbound()) != null) {
      sb.append(((ByteBuf) out).toString(StandardCharsets.ISO_8859_1));
      ((ByteBuf) out).release();
    }
    return sb.toString();
  }

  @Test
  void aConnectionThatSendsNothingIsClosedAfterTheKeepAliveTimeout() {
    advance(74);
    assertThat(ch.isOpen()).isTrue();
    advance(2);
    assertThat(ch.isOpen()).isFalse();
    assertThat(written()).as("an idle connection is closed without a response").isEmpty();
    assertThat(closed("idle_timeout")).isEqualTo(1);
    assertThat(closed("head_timeout")).isZero();
  }

  @Test
  void aHeadNotCompleteInTimeGets408AndAClose() {
    advance(50); // idle first: the head's clock starts at its first byte
    send("POST /v1/chat/completions HTTP/1.1\r\nHo");
    advance(20);
    send("st: t\r\n"); // bytes still coming do not extend it
    advance(9);
    assertThat(ch.isOpen()).isTrue();
    advance(2);
    assertThat(ch.isOpen()).isFalse();
    assertThat(written()).startsWith("HTTP/1.1 408 Request Timeout\r\n").contains("connection: close", "request-head-timeout");
    assertThat(requests).as("no request reached the relay").isEmpty();
    assertThat(closed("head_timeout")).isEqualTo(1);
    assertThat(closed("idle_timeout")).isZero();
  }

  @Test
  void aBodyIsTimedBetweenReadsAndAStallIsHandedToTheRelay() {
    send("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n123");
    advance(59);
    send("45"); // progress: the silence starts again
    advance(59);
    assertThat(events).isEmpty();
    advance(2);
    assertThat(events).containsExactly(ClientTimeouts.BodyStalled.INSTANCE);
    assertThat(closed("body_timeout")).isEqualTo(1);
    ch.close(); // what the relay does with it
  }

  @Test
  void aBodyTokentapIsNotReadingIsNotTimed() {
    send("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n123");
    ch.config().setAutoRead(false); // held back for a slow upstream
    advance(600);
    assertThat(events).isEmpty();
    ch.config().setAutoRead(true); // reading again: the client's silence counts from here
    advance(59);
    assertThat(events).isEmpty();
    advance(2);
    assertThat(events).containsExactly(ClientTimeouts.BodyStalled.INSTANCE);
    ch.close();
  }

  @Test
  void aPipelinedBodyIsTimedOnlyOnceTheRequestBeforeItIsAnswered() {
    send("POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"
        + "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n12");
    advance(600); // the first request's answer streams for ten minutes
    assertThat(events).isEmpty();
    ch.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK), LastHttpContent.EMPTY_LAST_CONTENT);
    assertThat(written()).startsWith("HTTP/1.1 200 OK");
    advance(59);
    assertThat(events).isEmpty();
    advance(2);
    assertThat(events).containsExactly(ClientTimeouts.BodyStalled.INSTANCE);
    ch.close();
  }

  @Test
  void noTimeoutWhileAResponseIsOwedHoweverLongThenKeepAliveFromItsEnd() {
    send("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
    assertThat(requests).containsExactly("DefaultHttpRequest", "DefaultLastHttpContent");
    ch.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
    advance(600); // a ten-minute stream with no byte from the client
    assertThat(ch.isOpen()).isTrue();
    assertThat(closed("idle_timeout") + closed("head_timeout") + closed("body_timeout")).isZero();
    ch.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
    assertThat(written()).startsWith("HTTP/1.1 200 OK");
    advance(74);
    assertThat(ch.isOpen()).as("keep-alive is timed from the end of the response").isTrue();
    advance(2);
    assertThat(ch.isOpen()).isFalse();
    assertThat(closed("idle_timeout")).isEqualTo(1);
  }
}
