package dev.tokentap.proxy.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link ResponseDispatcher} on an {@link EmbeddedChannel}: what reaches the bound listener, and what is released. */
class ResponseDispatcherTest {
  /** Records what it hears; releases each body part as a real listener must. */
  private static final class Recording implements ResponseListener {
    final List<String> heard = new ArrayList<>();
    final List<Long> stamps = new ArrayList<>();

    @Override
    public void onResponseHead(HttpResponse head, long readNanos) {
      heard.add("head " + head.status().code());
      stamps.add(readNanos);
    }

    @Override
    public void onResponseContent(HttpContent content, long readNanos) {
      heard.add((content instanceof io.netty.handler.codec.http.LastHttpContent ? "last " : "content ")
          + content.content().toString(StandardCharsets.US_ASCII));
      stamps.add(readNanos);
      content.release();
    }

    @Override
    public void onConnectionBroken(Throwable cause) {
      heard.add("broken " + (cause == null ? "closed" : cause.getMessage()));
    }

    @Override
    public void onWritabilityChanged(boolean writable) {
      heard.add("writable " + writable);
    }
  }

  private static EmbeddedChannel channel() {
    return new EmbeddedChannel(new ReadClock(), new ResponseDispatcher());
  }

  @Test
  void partsReachTheBoundListenerStampedWithTheirRead() {
    EmbeddedChannel ch = channel();
    Recording l = new Recording();
    ResponseDispatcher.of(ch).bind(l);
    long before = System.nanoTime();
    ch.writeInbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
    ch.writeInbound(new DefaultHttpContent(Unpooled.copiedBuffer("data: a\n\n", StandardCharsets.US_ASCII)));
    ch.writeInbound(new DefaultLastHttpContent(Unpooled.copiedBuffer("data: [DONE]\n\n", StandardCharsets.US_ASCII)));
    assertThat(l.heard).containsExactly("head 200", "content data: a\n\n", "last data: [DONE]\n\n");
    assertThat(l.stamps).allSatisfy(t -> assertThat(t).isGreaterThanOrEqualTo(before)).isSorted();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void anythingArrivingWhileUnboundClosesTheConnectionAndIsReleased() {
    EmbeddedChannel ch = channel();
    DefaultHttpContent stray = new DefaultHttpContent(Unpooled.copiedBuffer("late", StandardCharsets.US_ASCII));
    ch.writeInbound(stray);
    assertThat(stray.refCnt()).isZero();
    assertThat(ch.isOpen()).isFalse();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void aMalformedResponseBreaksTheExchangeOnceAndClosesTheConnection() {
    EmbeddedChannel ch = channel();
    Recording l = new Recording();
    ResponseDispatcher.of(ch).bind(l);
    HttpResponse bad = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    bad.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("bad status line")));
    ch.writeInbound(bad);
    assertThat(l.heard).containsExactly("broken bad status line");
    assertThat(ch.isOpen()).isFalse();
    assertThat(ch.finishAndReleaseAll()).isFalse();
    assertThat(l.heard).as("the close that follows is not reported again").hasSize(1);
  }

  @Test
  void aCloseBreaksTheBoundExchangeButNotAnUnboundOne() {
    EmbeddedChannel bound = channel();
    Recording l = new Recording();
    ResponseDispatcher.of(bound).bind(l);
    bound.close();
    assertThat(l.heard).containsExactly("broken closed");

    EmbeddedChannel unbound = channel();
    Recording other = new Recording();
    ResponseDispatcher.of(unbound).bind(other);
    ResponseDispatcher.of(unbound).unbind();
    unbound.close();
    assertThat(other.heard).isEmpty();
    assertThat(bound.finishAndReleaseAll()).isFalse();
    assertThat(unbound.finishAndReleaseAll()).isFalse();
  }

  @Test
  void anExceptionBreaksTheExchangeAndClosesTheConnection() {
    EmbeddedChannel ch = channel();
    Recording l = new Recording();
    ResponseDispatcher.of(ch).bind(l);
    ch.pipeline().fireExceptionCaught(new java.io.IOException("Connection reset by peer"));
    assertThat(l.heard).containsExactly("broken Connection reset by peer");
    assertThat(ch.isOpen()).isFalse();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }
}
