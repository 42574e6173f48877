package dev.tokentap.proxy.client;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Stamps every socket read with {@link System#nanoTime()} before any decoder sees it, so the relay,
 * the shadow copies and the bench know when bytes arrived rather than when a decoder produced a
 * message from them. Sits first in the pipeline (after TLS: a read is its decrypted bytes), on the
 * client listener and on every upstream connection; passes every message on untouched.
 *
 * <p>{@link #firstReadSinceMark()} is the arrival of the first byte after the last {@link #mark()}:
 * the relay marks when a request completes, so the next read starts the next request ({@code
 * t_start}, README "The numbers").
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

  /** When the first read since the last {@link #mark()} arrived; now when none has yet. */
  public long firstReadSinceMark() {
    return firstReadSinceMark < 0 ? System.nanoTime() : firstReadSinceMark;
  }

  /** The next read starts something new (a request). */
  public void mark() {
    firstReadSinceMark = -1;
  }
}
