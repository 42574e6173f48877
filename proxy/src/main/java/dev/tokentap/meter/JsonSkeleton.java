package dev.tokentap.meter;

import java.util.Arrays;

/**
 * The outline of a non-streaming JSON body, built as the body streams past, so that a {@link
 * Dialect} can read its usage, finish reason and error at the end while the body itself is never
 * held (docs/reliability.md, "Memory per slow reader"). A slow client of a 16 MiB answer costs the
 * meter the outline, typically a few hundred bytes, instead of a copy of the body.
 *
 * <p>What a dialect reads of a body sits within three levels of nesting and is short: top-level
 * fields ({@code status}, {@code stop_reason}, {@code done_reason}, {@code eval_count}), the {@code
 * usage} object and its {@code *_details}, each choice's {@code finish_reason}. What makes a body
 * big is long strings (generated text, tool-call arguments), deep structures (logprobs, the message
 * itself) and long arrays (embeddings, token details). So, byte by byte, the outline
 *
 * <ul>
 *   <li>replaces a string (or key) longer than {@value #MAX_STRING_BYTES} bytes with {@code "~"};
 *   <li>replaces an object or array that opens {@value #MAX_DEPTH} levels deep with {@code {}} or
 *       {@code []};
 *   <li>keeps the first {@value #MAX_ELEMENTS} elements of an array;
 *   <li>drops whitespace between tokens, and copies every other byte.
 * </ul>
 *
 * The outline of valid JSON is valid JSON with the same fields where the dialects look, wherever in
 * the body they come (OpenAI sends {@code usage} last); the outline of anything else stays invalid,
 * so the body is still reported unparsed. It is the same for every split of the body into reads.
 * Past {@code maxBytes} it lets go of what it has and only remembers that it overflowed.
 */
final class JsonSkeleton {
  /** The most an outline may take, whatever the configured limit: the default write-buffer mark. */
  static final int MAX_BYTES = 64 * 1024;

  /** Containers kept open: the body object, usage or choices, a usage detail or one choice. */
  static final int MAX_DEPTH = 3;

  static final int MAX_ELEMENTS = 64;
  static final int MAX_STRING_BYTES = 256;

  private static final byte[] EMPTY = new byte[0];
  private static final int INITIAL_BYTES = 512;

  private enum Mode {
    /** Between tokens, or in a number or literal: copied. */
    COPY,
    /** In a string not yet too long: copied, so it can still be kept whole. */
    STRING,
    /** In a string already replaced by its placeholder: skipped to its closing quote. */
    LONG_STRING,
    /** In a container emptied for its depth, or the rest of an array: skipped to its end. */
    SKIP
  }

  private final int maxBytes;
  private byte[] bytes = EMPTY;
  private int length;
  private boolean overflowed;
  private long bytesSeen;

  private Mode mode = Mode.COPY;
  private boolean escaped; // the previous string byte was an unescaped backslash
  private int stringStart; // outline offset of the opening quote of the string being copied

  private int depth; // kept containers open
  private final boolean[] isArray = new boolean[MAX_DEPTH];
  private final int[] elements = new int[MAX_DEPTH];

  private int skipDepth; // containers open in the skipped part
  private boolean skipInString;
  private boolean closeAfterSkip; // the skipped part is the rest of a kept array: copy its ']'

  /** @param maxBytes the most the outline may take; at most {@link #MAX_BYTES} is used */
  JsonSkeleton(int maxBytes) {
    this.maxBytes = Math.min(maxBytes, MAX_BYTES);
  }

  void append(byte[] source, int offset, int count) {
    bytesSeen += count;
    int end = offset + count;
    for (int i = offset; i < end && !overflowed; i++) {
      if (!escaped && (mode == Mode.LONG_STRING || (mode == Mode.SKIP && skipInString))) {
        i = nextQuoteOrBackslash(source, i, end); // the bulk of a big body: text no one reads
        if (i == end) {
          break;
        }
      }
      byte b = source[i];
      switch (mode) {
        case COPY -> copy(b);
        case STRING -> string(b);
        case LONG_STRING -> {
          if (endsString(b)) {
            mode = Mode.COPY;
          }
        }
        case SKIP -> skip(b);
      }
    }
  }

  private static int nextQuoteOrBackslash(byte[] source, int from, int end) {
    int i = from;
    while (i < end && source[i] != '"' && source[i] != '\\') {
      i++;
    }
    return i;
  }

  boolean overflowed() {
    return overflowed;
  }

  /** Body bytes seen, kept or not. */
  long bytesSeen() {
    return bytesSeen;
  }

  /** The outline, valid up to {@link #length()}; empty when overflowed. */
  byte[] bytes() {
    return bytes;
  }

  int length() {
    return overflowed ? 0 : length;
  }

  private void copy(byte b) {
    switch (b) {
      case ' ', '\t', '\n', '\r' -> {}
      case '"' -> {
        stringStart = length;
        escaped = false;
        mode = Mode.STRING;
        put(b);
      }
      case '{', '[' -> open(b);
      case '}', ']' -> {
        depth = Math.max(0, depth - 1);
        put(b);
      }
      case ',' -> {
        if (depth > 0 && isArray[depth - 1] && ++elements[depth - 1] > MAX_ELEMENTS) {
          startSkip(true);
        } else {
          put(b);
        }
      }
      default -> put(b);
    }
  }

  private void open(byte b) {
    put(b);
    if (depth == MAX_DEPTH) {
      put(b == '{' ? (byte) '}' : (byte) ']');
      startSkip(false);
      return;
    }
    isArray[depth] = b == '[';
    elements[depth] = 1;
    depth++;
  }

  private void string(byte b) {
    boolean end = endsString(b);
    put(b);
    if (end) {
      mode = Mode.COPY;
    } else if (length - stringStart > MAX_STRING_BYTES + 1) {
      length = stringStart;
      put((byte) '"');
      put((byte) '~');
      put((byte) '"');
      mode = Mode.LONG_STRING; // escaped carries over: the next byte may be an escaped quote
    }
  }

  /** Whether {@code b} closes the current string, tracking backslash escapes. */
  private boolean endsString(byte b) {
    if (escaped) {
      escaped = false;
      return false;
    }
    if (b == '\\') {
      escaped = true;
      return false;
    }
    return b == '"';
  }

  private void startSkip(boolean restOfArray) {
    mode = Mode.SKIP;
    skipDepth = 1;
    skipInString = false;
    closeAfterSkip = restOfArray;
  }

  private void skip(byte b) {
    if (skipInString) {
      skipInString = !endsString(b);
      return;
    }
    switch (b) {
      case '"' -> {
        skipInString = true;
        escaped = false;
      }
      case '{', '[' -> skipDepth++;
      case '}', ']' -> {
        if (--skipDepth == 0) {
          mode = Mode.COPY;
          if (closeAfterSkip) {
            depth--;
            put(b);
          }
        }
      }
      default -> {}
    }
  }

  private void put(byte b) {
    if (length == bytes.length) {
      if (length >= maxBytes) {
        overflowed = true;
        bytes = EMPTY; // let go: the body is not read
        return;
      }
      int size = (int) Math.min(maxBytes, Math.max(INITIAL_BYTES, 2L * bytes.length));
      bytes = Arrays.copyOf(bytes, size);
    }
    bytes[length++] = b;
  }
}
