package dev.tokentap.meter;

import java.util.Arrays;

/** Absolute byte ranges the relay must not forward, collected until it drains them. */
final class DropRanges {
  static final long[] NONE = new long[0];

  private long[] ranges = NONE;
  private int size;

  void add(long start, long end) {
    if (size > 0 && ranges[size - 1] == start) {
      ranges[size - 1] = end; // adjacent (a CRLF split across reads): one range
      return;
    }
    if (size + 2 > ranges.length) {
      ranges = Arrays.copyOf(ranges, Math.max(4, ranges.length * 2));
    }
    ranges[size++] = start;
    ranges[size++] = end;
  }

  /** The ranges added since the last call, as {@code [start0, end0, start1, end1, ...]}. */
  long[] drain() {
    if (size == 0) {
      return NONE;
    }
    long[] drained = Arrays.copyOf(ranges, size);
    size = 0;
    return drained;
  }
}
