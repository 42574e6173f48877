package dev.tokentap.meter;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * One Jackson streaming parser that reads a sequence of JSON documents (one per SSE event) without
 * being created again for each.
 *
 * <p>Jackson cannot point a parser at a new array, and creating one per event costs several
 * objects. So the parser reads from an {@link InputStream} whose bytes we swap: each event's data
 * becomes the next root-level value. It never reads ahead past the end of a root value, so the
 * stream is drained exactly when a well-formed document ends. A malformed or truncated document
 * makes the parser see end-of-input, which ends it for good; it is then dropped and a new one made
 * for the next event (allocation only on bad input).
 */
final class ReusableJsonParser {
  /** Shared: holds the field-name symbol table that every parser's names are canonicalised into. */
  static final JsonFactory FACTORY =
      JsonFactory.builder().disable(StreamReadFeature.AUTO_CLOSE_SOURCE).build();

  private static final OutputStream DISCARD = OutputStream.nullOutputStream();

  private final SwappableInput input = new SwappableInput();
  private JsonParser parser;

  /** Points the parser at one document; the next {@code nextToken()} returns its first token. */
  JsonParser open(byte[] bytes, int from, int length) throws IOException {
    input.set(bytes, from, from + length);
    if (parser == null) {
      parser = FACTORY.createParser(input);
    }
    return parser;
  }

  /**
   * Call after the root value ended: returns whether only whitespace followed it, and leaves the
   * parser ready for the next document either way.
   */
  boolean finishDocument() throws IOException {
    int buffered = parser.releaseBuffered(DISCARD); // consumes what the parser read but not used
    int tail = input.position - buffered;
    boolean onlyWhitespace = Bytes.isBlank(input.bytes, tail, input.end - tail);
    input.position = input.end;
    return onlyWhitespace;
  }

  /** Drops a parser that failed; the next {@link #open} makes a new one. */
  void abandon() {
    JsonParser failed = parser;
    parser = null;
    if (failed != null) {
      try {
        failed.close();
      } catch (IOException | RuntimeException ignored) {
        // Closing only returns buffers to Jackson's pool; nothing to recover.
      }
    }
  }

  /** Closes the parser so its buffers go back to the pool and its new names to the factory. */
  void release() {
    abandon();
  }

  /** An input stream over one swapped-in slice; {@code -1} at its end. */
  private static final class SwappableInput extends InputStream {
    byte[] bytes = new byte[0];
    int position;
    int end;

    void set(byte[] bytes, int from, int to) {
      this.bytes = bytes;
      this.position = from;
      this.end = to;
    }

    @Override
    public int read() {
      return position < end ? bytes[position++] & 0xFF : -1;
    }

    @Override
    public int read(byte[] target, int offset, int length) {
      if (length == 0) {
        return 0;
      }
      if (position >= end) {
        return -1;
      }
      int n = Math.min(length, end - position);
      System.arraycopy(bytes, position, target, offset, n);
      position += n;
      return n;
    }

    @Override
    public int available() {
      return end - position;
    }
  }
}
