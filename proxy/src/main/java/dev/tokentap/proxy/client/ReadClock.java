package dev.tokentap.proxy.client;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Stamps every socket read with {@link System#nanoTime()} before any decoder sees it, so the relay,
 * the shadow copies and the bench know when bytes arrived rather than when a decoder produced a
 * message from them. Sits first in the pipeline (after TLS: a read is its decrypted bytes), on the
 * client listener and on every upstream connection; passes every message on untouched.
 *
 * <p>{@link #requestStart} is the arrival of the first byte after the last {@link #mark()}: the
 * relay marks when a request completes, so the next read starts the next request ({@code t_start},
 * README "The numbers"); a pipelined request already buffered starts when it is taken up.
 */
public final class ReadClock extends ChannelInboundHandlerAdapter {
  private long lastReadNanos;
  private long firstReadSinceMark = -1;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    long now = System.nanoTime();
    lastReadNanos = now;
    if (firstReadSinceMark < 0) {
      firstReadSinceMark = now;
    }
    ctx.fireChannelRead(msg);
  }

  /** When the latest read arrived. */
  public long lastReadNanos() {
    return lastReadNanos;
  }

  /**
   * When the request taken up at {@code now} started: its first byte, read since the last {@link
   * #mark()}; or {@code now} when none was, because its bytes were already buffered behind the
   * request before it (pipelined) and it starts when the proxy takes it up. Never after {@code
   * now}, so no duration measured to {@code now} or later is negative.
   */
  public long requestStart(long now) {
    return firstReadSinceMark < 0 ? now : Math.min(firstReadSinceMark, now);
  }

  /** The next read starts something new (a request). */
  public void mark() {
    firstReadSinceMark = -1;
  }
}
