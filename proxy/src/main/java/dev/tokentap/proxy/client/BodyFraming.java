package dev.tokentap.proxy.client;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.CorruptedFrameException;

/**
 * Where an HTTP/1.1 response body ends and which of its bytes are payload, found without copying a
 * byte (RFC 9112 §6.3, §7.1): the body arrives as the upstream framed it and is relayed as it is
 * ({@link WireContent}); only the meter needs the payload without the chunk framing, and gets it
 * as slices of the same buffers.
 *
 * <p>For chunked bodies a small state machine reads the chunk-size lines (hex size, extensions
 * skipped), steps over the data in one jump per chunk, and reads the trailer section to the blank
 * line that ends the message. Only framing bytes are looked at one by one. A body with a
 * Content-Length ends after that many bytes; one with neither ends when the connection closes.
 *
 * <p>Malformed chunk framing is a {@link CorruptedFrameException}: the connection is out of step
 * with its messages and must be closed.
 */
final class BodyFraming {
  /** How the body's end is known. */
  enum Kind {
    CHUNKED,
    FIXED_LENGTH,
    UNTIL_CLOSE
  }

  private enum State { SIZE, EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER_START, TRAILER_LINE, TRAILER_LF, DONE }

  /** Longest chunk-size line (with extensions) and trailer section accepted. */
  private final int maxLine;
  private final Kind kind;
  private State state = State.SIZE;
  private long remaining; // of the current chunk, or of a fixed-length body
  private long size;
  private int digits;
  private int lineBytes;
  /** Payload ranges found by the last {@link #scan}: absolute index and length, pairs. */
  private int[] ranges = new int[8];
  private int rangeCount;

  private BodyFraming(Kind kind, long length, int maxLine) {
    this.kind = kind;
    this.remaining = length;
    this.maxLine = maxLine;
    if (kind == Kind.FIXED_LENGTH && length == 0) {
      state = State.DONE;
    }
  }

  static BodyFraming chunked(int maxLine) {
    return new BodyFraming(Kind.CHUNKED, 0, maxLine);
  }

  static BodyFraming fixedLength(long length) {
    return new BodyFraming(Kind.FIXED_LENGTH, length, 0);
  }

  static BodyFraming untilClose() {
    return new BodyFraming(Kind.UNTIL_CLOSE, 0, 0);
  }

  Kind kind() {
    return kind;
  }

  /** Whether the message's last byte has been scanned. */
  boolean done() {
    return state == State.DONE;
  }

  /**
   * Whether a chunked body is between two chunks (none of the next one's size line read yet) or
   * ended: bytes scanned from here to a point where this holds again are whole chunks.
   */
  boolean betweenChunks() {
    return kind == Kind.CHUNKED && (state == State.DONE || state == State.SIZE && digits == 0);
  }

  /**
   * Scans {@code in} from its reader index up to its end or the message's, whichever is first,
   * without moving the index; returns how many bytes belong to this message. The payload among
   * them is then {@link #rangeCount()} ranges.
   */
  int scan(ByteBuf in) {
    rangeCount = 0;
    int start = in.readerIndex();
    int end = in.writerIndex();
    if (kind != Kind.CHUNKED) {
      int n = kind == Kind.UNTIL_CLOSE ? end - start : (int) Math.min(remaining, end - start);
      if (n > 0) {
        addRange(start, n);
      }
      if (kind == Kind.FIXED_LENGTH) {
        remaining -= n;
        if (remaining == 0) {
          state = State.DONE;
        }
      }
      return n;
    }
    int i = start;
    while (i < end && state != State.DONE) {
      if (state == State.DATA) {
        int n = (int) Math.min(remaining, end - i);
        addRange(i, n);
        i += n;
        remaining -= n;
        if (remaining == 0) {
          state = State.DATA_CR;
        }
        continue;
      }
      step(in.getByte(i++));
    }
    return i - start;
  }

  private void step(byte b) {
    switch (state) {
      case SIZE -> {
        int v = hex(b);
        if (v >= 0) {
          if (++digits > 15) {
            throw malformed("chunk size too large");
          }
          size = size << 4 | v;
          lineByte();
        } else if (digits == 0) {
          throw malformed("chunk size expected");
        } else if (b == ';' || b == ' ' || b == '\t') {
          state = State.EXTENSION;
          lineByte();
        } else if (b == '\r') {
          state = State.SIZE_LF;
        } else if (b == '\n') {
          sizeRead();
        } else {
          throw malformed("invalid character in chunk size");
        }
      }
      case EXTENSION -> {
        if (b == '\n') {
          sizeRead();
        } else {
          lineByte();
        }
      }
      case SIZE_LF -> {
        if (b != '\n') {
          throw malformed("CR without LF after chunk size");
        }
        sizeRead();
      }
      case DATA_CR -> {
        if (b == '\r') {
          state = State.DATA_LF;
        } else if (b == '\n') {
          state = State.SIZE;
        } else {
          throw malformed("chunk data longer than its size");
        }
      }
      case DATA_LF -> {
        if (b != '\n') {
          throw malformed("CR without LF after chunk data");
        }
        state = State.SIZE;
      }
      case TRAILER_START -> {
        if (b == '\r') {
          state = State.TRAILER_LF;
        } else if (b == '\n') {
          state = State.DONE;
        } else {
          state = State.TRAILER_LINE;
          lineByte();
        }
      }
      case TRAILER_LINE -> {
        lineByte();
        if (b == '\n') {
          state = State.TRAILER_START;
        }
      }
      case TRAILER_LF -> {
        if (b != '\n') {
          throw malformed("CR without LF after trailers");
        }
        state = State.DONE;
      }
      default -> throw new IllegalStateException(state.name());
    }
  }

  private void sizeRead() {
    lineBytes = 0;
    digits = 0;
    if (size == 0) {
      state = State.TRAILER_START;
    } else {
      remaining = size;
      size = 0;
      state = State.DATA;
    }
  }

  /** Chunk-size lines and the trailer section are bounded (a server sending endless framing is broken). */
  private void lineByte() {
    if (++lineBytes > maxLine) {
      throw malformed(state == State.TRAILER_LINE || state == State.TRAILER_START ? "trailer section too large" : "chunk-size line too long");
    }
  }

  private static int hex(byte b) {
    if (b >= '0' && b <= '9') {
      return b - '0';
    }
    if (b >= 'a' && b <= 'f') {
      return b - 'a' + 10;
    }
    if (b >= 'A' && b <= 'F') {
      return b - 'A' + 10;
    }
    return -1;
  }

  private static CorruptedFrameException malformed(String what) {
    return new CorruptedFrameException("malformed chunked response body: " + what);
  }

  private void addRange(int index, int length) {
    if (rangeCount * 2 + 2 > ranges.length) {
      ranges = java.util.Arrays.copyOf(ranges, ranges.length * 2);
    }
    ranges[rangeCount * 2] = index;
    ranges[rangeCount * 2 + 1] = length;
    rangeCount++;
  }

  int rangeCount() {
    return rangeCount;
  }

  int rangeIndex(int i) {
    return ranges[i * 2];
  }

  int rangeLength(int i) {
    return ranges[i * 2 + 1];
  }
}
