package dev.tokentap.meter;

import java.util.Arrays;

/**
 * Keeps a non-streaming JSON body (a whole response, or an error) so its usage and error can be
 * read when it ends. Bounded: past {@code maxBytes} it lets go of what it has and only remembers
 * that the body overflowed.
 */
final class JsonBodyBuffer {
  private static final int INITIAL_BYTES = 1024;

  private final int maxBytes;
  private byte[] bytes;
  private int length;
  private boolean overflowed;

  JsonBodyBuffer(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  void append(byte[] source, int offset, int count) {
    if (overflowed) {
      return;
    }
    long needed = (long) length + count;
    if (needed > maxBytes) {
      overflowed = true;
      bytes = null;
      return;
    }
    if (bytes == null || needed > bytes.length) {
      long grown = Math.max(needed, Math.max(INITIAL_BYTES, bytes == null ? 0 : 2L * bytes.length));
      int size = (int) Math.min(maxBytes, grown);
      bytes = bytes == null ? new byte[size] : Arrays.copyOf(bytes, size);
    }
    System.arraycopy(source, offset, bytes, length, count);
    length += count;
  }

  boolean overflowed() {
    return overflowed;
  }

  /** The kept bytes, valid up to {@link #length()}; null when empty or overflowed. */
  byte[] bytes() {
    return bytes;
  }

  int length() {
    return overflowed ? 0 : length;
  }
}
