package dev.tokentap.proxy.relay;

/**
 * Reads {@code model}, {@code stream} and {@code stream_options} from a JSON request body in one
 * pass over its bytes, without a parser object, a symbol table or a string per key: the relay's
 * per-request body work (docs/performance.md, "Request bodies").
 *
 * <p>It validates the whole top-level object with {@link StrictJsonReader}, whose grammar is a
 * strict subset of what Jackson accepts, and reads the keys at the top level and in {@code
 * stream_options} only where they have no escapes, so whatever it reads, Jackson would read the
 * same. Anything outside that subset, malformed JSON included, returns null and {@link
 * RequestBodyInspector} takes the Jackson path: the answer is always Jackson's, and the scanner
 * only makes the common case cheap ({@code RequestBodyScannerTest} checks this for every
 * single-byte mutation of real bodies).
 */
final class RequestBodyScanner extends StrictJsonReader {
  private RequestBodyScanner(byte[] body) {
    super(body);
  }

  /** The body's fields, or null: let Jackson read it. */
  static BodyFields scan(byte[] body) {
    try {
      return new RequestBodyScanner(body).topLevel();
    } catch (Defer e) { // outside the subset: Jackson decides
      return null;
    }
  }

  private BodyFields topLevel() {
    BodyFields f = new BodyFields();
    skipWhitespace();
    expect('{');
    f.topLevelOpen = i - 1;
    if (peekAfterWhitespace() == '}') {
      return f;
    }
    do {
      long name = memberName();
      int v = i;
      if (is(name, "model")) {
        f.model = at(v) == '"' ? plainString() : null;
        if (f.model == null) {
          value(1);
        }
      } else if (is(name, "stream")) {
        value(1);
        f.stream = b[v] == 't';
      } else if (is(name, "stream_options")) {
        f.streamOptionsPresent = true;
        if (at(v) == '{') {
          f.streamOptionsIsObject = true;
          f.streamOptionsOpen = v;
          streamOptions(f);
        } else {
          value(1);
        }
      } else {
        value(1);
      }
    } while (nextMember());
    return f;
  }

  private void streamOptions(BodyFields f) {
    i++; // {
    if (peekAfterWhitespace() == '}') {
      i++;
      return;
    }
    do {
      long name = memberName();
      int v = i;
      value(2);
      if (is(name, "include_usage")) {
        byte first = b[v];
        f.includeUsage(first == 't', first != '"' && first != '{' && first != '[', v, i);
      }
    } while (nextMember());
  }

  /**
   * A member's name, its colon and the whitespace around them, up to its value: the name's first
   * and last-plus-one indexes, packed as {@code start << 32 | end} (no object per member).
   */
  private long memberName() {
    skipWhitespace();
    int start = i + 1;
    int end = plainKey();
    skipWhitespace();
    expect(':');
    skipWhitespace();
    return (long) start << 32 | end;
  }

  private boolean is(long name, String key) {
    int start = (int) (name >>> 32);
    int end = (int) name;
    if (end - start != key.length()) {
      return false;
    }
    for (int k = 0; k < key.length(); k++) {
      if (b[start + k] != key.charAt(k)) {
        return false;
      }
    }
    return true;
  }
}
