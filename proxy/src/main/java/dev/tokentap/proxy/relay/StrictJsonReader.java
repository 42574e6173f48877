package dev.tokentap.proxy.relay;

import java.nio.charset.StandardCharsets;

/**
 * A validating reader over JSON bytes for a grammar that is a strict subset of what Jackson
 * accepts by default: RFC 8259 strings in well-formed UTF-8 (lead bytes C2..F4), numbers of at
 * most {@value #MAX_NUMBER} characters, the three literals, nesting at most {@value #MAX_DEPTH}
 * deep. Whatever is outside it, malformed JSON included, throws {@link Defer}: the caller then
 * asks Jackson, so the answer never differs from Jackson's. No objects are made while reading.
 */
abstract class StrictJsonReader {
  static final int MAX_DEPTH = 64;
  /** Longer numbers go to Jackson, whose limit (1,000 digits) is then the one that applies. */
  private static final int MAX_NUMBER = 100;

  final byte[] b;
  int i;

  StrictJsonReader(byte[] body) {
    this.b = body;
  }

  /** Thrown where the scanner leaves the body to Jackson; never escapes the scanner that uses this reader. */
  static final class Defer extends RuntimeException {
    static final Defer INSTANCE = new Defer();

    private Defer() {
      super(null, null, false, false);
    }
  }

  /** After a member's value: true at a comma (another member follows), false at the closing brace. */
  final boolean nextMember() {
    skipWhitespace();
    byte c = at(i++);
    if (c == ',') {
      return true;
    }
    if (c == '}') {
      return false;
    }
    throw Defer.INSTANCE;
  }

  final void value(int depth) {
    byte c = at(i);
    switch (c) {
      case '"' -> string();
      case '{' -> object(depth + 1);
      case '[' -> array(depth + 1);
      case 't' -> literal("true");
      case 'f' -> literal("false");
      case 'n' -> literal("null");
      default -> number();
    }
  }

  private void object(int depth) {
    if (depth > MAX_DEPTH) {
      throw Defer.INSTANCE;
    }
    i++;
    if (peekAfterWhitespace() == '}') {
      i++;
      return;
    }
    do {
      skipWhitespace();
      if (at(i) != '"') {
        throw Defer.INSTANCE;
      }
      string();
      skipWhitespace();
      expect(':');
      skipWhitespace();
      value(depth);
    } while (nextMember());
  }

  private void array(int depth) {
    if (depth > MAX_DEPTH) {
      throw Defer.INSTANCE;
    }
    i++;
    if (peekAfterWhitespace() == ']') {
      i++;
      return;
    }
    while (true) {
      skipWhitespace();
      value(depth);
      skipWhitespace();
      byte c = at(i++);
      if (c == ']') {
        return;
      }
      if (c != ',') {
        throw Defer.INSTANCE;
      }
    }
  }

  /** A key of printable ASCII without escapes; returns the index of its closing quote. */
  final int plainKey() {
    expect('"');
    while (true) {
      byte c = at(i);
      if (c == '"') {
        return i++;
      }
      if (c < 0x20 || c == '\\') { // negative: not ASCII
        throw Defer.INSTANCE;
      }
      i++;
    }
  }

  /** A string value of printable ASCII without escapes, as a String. */
  final String plainString() {
    int start = i + 1;
    int end = plainKey();
    return new String(b, start, end - start, StandardCharsets.ISO_8859_1);
  }

  /** Any RFC 8259 string in well-formed UTF-8. */
  private void string() {
    byte[] a = b;
    int k = i + 1;
    while (true) {
      // The common run: printable ASCII other than the quote and the backslash.
      while (k < a.length) {
        byte c = a[k];
        if (c < 0x20 || c == '"' || c == '\\') { // negative: a UTF-8 lead or continuation byte
          break;
        }
        k++;
      }
      i = k;
      int c = at(k) & 0xFF;
      if (c == '"') {
        i = k + 1;
        return;
      }
      if (c == '\\') {
        escape();
      } else if (c < 0x80) {
        throw Defer.INSTANCE; // a control character
      } else {
        utf8(c);
      }
      k = i;
    }
  }

  private void escape() {
    byte e = at(i + 1);
    switch (e) {
      case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> i += 2;
      case 'u' -> {
        for (int k = i + 2; k < i + 6; k++) {
          if (Character.digit(at(k), 16) < 0) {
            throw Defer.INSTANCE;
          }
        }
        i += 6;
      }
      default -> throw Defer.INSTANCE;
    }
  }

  /** One multi-byte UTF-8 sequence starting with {@code lead}: lead byte C2..F4, then continuation bytes. */
  private void utf8(int lead) {
    int continuation;
    if (lead >= 0xC2 && lead <= 0xDF) {
      continuation = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      continuation = 2;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      continuation = 3;
    } else {
      throw Defer.INSTANCE;
    }
    for (int k = 1; k <= continuation; k++) {
      if ((at(i + k) & 0xC0) != 0x80) {
        throw Defer.INSTANCE;
      }
    }
    i += continuation + 1;
  }

  private void literal(String word) {
    for (int k = 0; k < word.length(); k++) {
      if (at(i + k) != word.charAt(k)) {
        throw Defer.INSTANCE;
      }
    }
    i += word.length();
    endOfToken();
  }

  /** {@code -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?} */
  private void number() {
    int start = i;
    if (at(i) == '-') {
      i++;
    }
    if (at(i) == '0') {
      i++;
    } else {
      digits();
    }
    if (at(i) == '.') {
      i++;
      digits();
    }
    if (at(i) == 'e' || at(i) == 'E') {
      i++;
      if (at(i) == '+' || at(i) == '-') {
        i++;
      }
      digits();
    }
    if (i - start > MAX_NUMBER) {
      throw Defer.INSTANCE;
    }
    endOfToken();
  }

  private void digits() {
    if (!isDigit(at(i))) {
      throw Defer.INSTANCE;
    }
    while (isDigit(at(i))) {
      i++;
    }
  }

  private static boolean isDigit(byte c) {
    return c >= '0' && c <= '9';
  }

  /** A literal or number ends at whitespace or a separator. */
  private void endOfToken() {
    byte c = at(i);
    if (!(c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
      throw Defer.INSTANCE;
    }
  }

  final void skipWhitespace() {
    while (i < b.length) {
      byte c = b[i];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        return;
      }
      i++;
    }
  }

  final byte peekAfterWhitespace() {
    skipWhitespace();
    return at(i);
  }

  final void expect(char c) {
    if (at(i) != c) {
      throw Defer.INSTANCE;
    }
    i++;
  }

  /** The byte at {@code k}; past the end the body is incomplete, which Jackson reports. */
  final byte at(int k) {
    if (k >= b.length) {
      throw Defer.INSTANCE;
    }
    return b[k];
  }
}
