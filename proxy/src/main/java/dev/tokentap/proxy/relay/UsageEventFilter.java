package dev.tokentap.proxy.relay;

import dev.tokentap.meter.StreamMeter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Removes the usage event that usage injection made the server send (DESIGN §3), so a client that
 * did not ask for usage never sees it; every other byte passes unchanged.
 *
 * <p>Only complete events are released to the client: the bytes of an event still being received are
 * held until its blank line arrives, since until then it is unknown whether the event is the usage
 * chunk. This adds no latency a client could observe, because no SSE client can act on an event
 * before its blank line either. The meter, fed the same bytes first, says where events end ({@link
 * StreamMeter#completeUpTo()}) and which to drop ({@link StreamMeter#drainDropRanges()}), in absolute
 * body offsets.
 */
final class UsageEventFilter {
  private final StreamMeter meter;
  private final ByteBufAllocator alloc;
  /** Bytes not yet released to the client, oldest first; each buffer owned here until consumed. */
  private final ArrayDeque<ByteBuf> held = new ArrayDeque<>(2); // one per open connection: small, it grows if ever needed
  /** Absolute body offset of the first readable byte of the first held buffer. */
  private long heldStart;
  private long heldBytes;
  private long[] drops = new long[0];
  private int dropCount;

  UsageEventFilter(StreamMeter meter, ByteBufAllocator alloc) {
    this.meter = meter;
    this.alloc = alloc;
  }

  /**
   * Takes ownership of {@code in} (already fed to the meter) and returns what may go to the client
   * now, possibly empty; the caller owns the result.
   */
  ByteBuf filter(ByteBuf in) {
    if (in.isReadable()) {
      held.addLast(in);
      heldBytes += in.readableBytes();
    } else {
      in.release();
    }
    collectDrops();
    return release(meter.completeUpTo());
  }

  /**
   * For {@code length} new payload bytes (already fed to the meter) that the caller would rather
   * pass on as they are: true, and they count as released, when nothing is held before them, the
   * meter has seen every event in them end and none of them is to be dropped; otherwise false, and
   * the caller hands them to {@link #filter} as usual.
   */
  boolean passesWhole(int length) {
    if (heldBytes != 0) {
      return false;
    }
    collectDrops();
    long end = heldStart + length;
    if (dropCount != 0 || meter.completeUpTo() != end) {
      return false;
    }
    heldStart = end;
    return true;
  }

  /** At the end of the body: everything still held goes out, minus dropped events. */
  ByteBuf finish() {
    collectDrops();
    return release(heldStart + heldBytes);
  }

  void discard() {
    ByteBuf b;
    while ((b = held.poll()) != null) {
      b.release();
    }
    heldBytes = 0;
  }

  private void collectDrops() {
    long[] more = meter.drainDropRanges();
    if (more.length == 0) {
      return;
    }
    if (drops.length < dropCount + more.length) {
      drops = Arrays.copyOf(drops, Math.max(8, (dropCount + more.length) * 2));
    }
    System.arraycopy(more, 0, drops, dropCount, more.length);
    dropCount += more.length;
  }

  /** Releases the held bytes before {@code upTo}, except those inside drop ranges. */
  private ByteBuf release(long upTo) {
    long end = Math.min(upTo, heldStart + heldBytes);
    if (end <= heldStart) {
      return Unpooled.EMPTY_BUFFER;
    }
    if (dropCount == 0 && held.size() == 1 && end == heldStart + heldBytes) {
      // The usual read: whole events, none dropped: the buffer itself goes, no composite.
      heldStart = end;
      heldBytes = 0;
      return held.pollFirst();
    }
    CompositeByteBuf out = alloc.compositeBuffer(Integer.MAX_VALUE);
    long cursor = heldStart;
    int kept = 0;
    for (int i = 0; i < dropCount; i += 2) {
      long from = Math.max(drops[i], cursor);
      long to = Math.min(drops[i + 1], end);
      if (from >= end) {
        drops[kept++] = drops[i];
        drops[kept++] = drops[i + 1];
        continue;
      }
      if (from > cursor) {
        take(out, from - cursor, true);
        cursor = from;
      }
      if (to > cursor) {
        take(out, to - cursor, false);
        cursor = to;
      }
      if (drops[i + 1] > end) {
        drops[kept++] = end;
        drops[kept++] = drops[i + 1];
      }
    }
    dropCount = kept;
    if (end > cursor) {
      take(out, end - cursor, true);
    }
    return out;
  }

  /** Consumes {@code length} held bytes, adding them to {@code out} when {@code keep}. */
  private void take(CompositeByteBuf out, long length, boolean keep) {
    long remaining = length;
    while (remaining > 0) {
      ByteBuf first = held.peekFirst();
      int n = (int) Math.min(remaining, first.readableBytes());
      if (keep) {
        // A slice of the buffer itself (not of a composite) keeps that buffer alive until sent.
        out.addComponent(true, first.retainedSlice(first.readerIndex(), n));
      }
      first.skipBytes(n);
      if (!first.isReadable()) {
        held.pollFirst().release();
      }
      remaining -= n;
      heldStart += n;
      heldBytes -= n;
    }
  }
}
