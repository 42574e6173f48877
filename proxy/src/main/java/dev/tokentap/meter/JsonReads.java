package dev.tokentap.meter;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * Small reads on Jackson's streaming parser that every {@link Dialect} shares: {@code null} and a
 * missing field are the same (wire-formats.md §13.11), and strings are inspected without being
 * turned into {@link String}s.
 */
final class JsonReads {
  private JsonReads() {}

  /** A token count: an integer (or a float, truncated); ABSENT for null or any other type. */
  static long count(JsonParser parser, JsonToken value) throws IOException {
    if (value == JsonToken.VALUE_NUMBER_INT) {
      return Math.max(parser.getLongValue(), EventFacts.ABSENT);
    }
    if (value == JsonToken.VALUE_NUMBER_FLOAT) {
      return Math.max((long) parser.getDoubleValue(), EventFacts.ABSENT);
    }
    parser.skipChildren();
    return EventFacts.ABSENT;
  }

  /** Reads {@code field} of the object {@code value} starts; ABSENT for null or no such field. */
  static long nestedCount(JsonParser parser, JsonToken value, String field) throws IOException {
    if (value != JsonToken.START_OBJECT) {
      parser.skipChildren();
      return EventFacts.ABSENT;
    }
    long result = EventFacts.ABSENT;
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken nested = parser.nextToken();
      if (name.equals(field)) {
        result = count(parser, nested);
      } else {
        parser.skipChildren();
      }
    }
    return result;
  }

  /** Whether the value is a string of at least one character; skips any other value. */
  static boolean nonEmptyString(JsonParser parser, JsonToken value) throws IOException {
    if (value != JsonToken.VALUE_STRING) {
      parser.skipChildren();
      return false;
    }
    return parser.getTextLength() > 0;
  }

  /** Whether the value is a non-empty array (Ollama's whole {@code tool_calls}); skips it. */
  static boolean nonEmptyArray(JsonParser parser, JsonToken value) throws IOException {
    if (value != JsonToken.START_ARRAY) {
      parser.skipChildren();
      return false;
    }
    boolean any = parser.nextToken() != JsonToken.END_ARRAY;
    if (any) {
      parser.skipChildren();
      while (parser.nextToken() != JsonToken.END_ARRAY) {
        parser.skipChildren();
      }
    }
    return any;
  }

  /** Compares the current string value without making a String of it. */
  static boolean textEquals(JsonParser parser, String expected) throws IOException {
    int length = parser.getTextLength();
    if (length != expected.length()) {
      return false;
    }
    char[] chars = parser.getTextCharacters();
    int offset = parser.getTextOffset();
    for (int i = 0; i < length; i++) {
      if (chars[offset + i] != expected.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** The current string value, or null for any other value (which is skipped). */
  static String stringOrNull(JsonParser parser, JsonToken value) throws IOException {
    if (value != JsonToken.VALUE_STRING) {
      parser.skipChildren();
      return null;
    }
    return parser.getText();
  }
}
