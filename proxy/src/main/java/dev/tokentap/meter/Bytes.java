package dev.tokentap.meter;

/** Comparisons on byte slices, so that checking a marker never decodes text. */
final class Bytes {
  private Bytes() {}

  static boolean isBlank(byte[] bytes, int from, int length) {
    return start(bytes, from, from + length) == from + length;
  }

  /** Whether the slice, without surrounding JSON whitespace, equals {@code expected}. */
  static boolean equalsTrimmed(byte[] bytes, int from, int length, byte[] expected) {
    int end = from + length;
    int start = start(bytes, from, end);
    while (end > start && isWhitespace(bytes[end - 1])) {
      end--;
    }
    if (end - start != expected.length) {
      return false;
    }
    for (int i = 0; i < expected.length; i++) {
      if (bytes[start + i] != expected[i]) {
        return false;
      }
    }
    return true;
  }

  private static int start(byte[] bytes, int from, int end) {
    int i = from;
    while (i < end && isWhitespace(bytes[i])) {
      i++;
    }
    return i;
  }

  static boolean isWhitespace(byte b) {
    // Most bytes tested are above the space: one comparison rejects them (non-ASCII bytes are
    // negative, so they go on to the exact test).
    return b <= ' ' && (b == ' ' || b == '\n' || b == '\r' || b == '\t');
  }
}
