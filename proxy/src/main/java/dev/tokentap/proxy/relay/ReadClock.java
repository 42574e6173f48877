package dev.tokentap.proxy.relay;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Stamps every socket read with {@link System#nanoTime()} before any decoder sees it, so the relay
 * knows when bytes arrived rather than when a decoder produced a message from them. Sits first in
 * the pipeline; passes every message on untouched.
 *
 * <p>{@link #firstReadSinceMark()} is the arrival of the first byte after the last {@link #mark()}:
 * the relay marks when a request completes, so the next read starts the next request ({@code
 * t_start}, DESIGN §2).
 */
final class ReadClock extends ChannelInboundHandlerAdapter {
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

  long lastReadNanos() {
    return lastReadNanos;
  }

  long firstReadSinceMark() {
    return firstReadSinceMark < 0 ? System.nanoTime() : firstReadSinceMark;
  }

  void mark() {
    firstReadSinceMark = -1;
  }
}
