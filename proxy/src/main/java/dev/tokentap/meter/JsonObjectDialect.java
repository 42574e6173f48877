package dev.tokentap.meter;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * The common shape of the dialects whose every event (SSE {@code data}, or NDJSON line) and every
 * non-streaming body is one JSON object: parsing, failure handling and parser reuse live here, and
 * a subclass reads the object's fields into {@link EventFacts}.
 */
abstract class JsonObjectDialect implements Dialect {
  static final byte TOKEN_AND_VISIBLE = EventFacts.TOKEN | EventFacts.VISIBLE;
  private static final byte[] NO_TYPE = new byte[0];

  private final ReusableJsonParser events = new ReusableJsonParser();

  /**
   * Reads the object; the parser is on its START_OBJECT and must end on its END_OBJECT.
   *
   * @param type the SSE event type ({@code typeLength == 0}: none, or an NDJSON line or a body)
   * @param body a whole non-streaming response rather than one event
   */
  abstract void readObject(
      JsonParser parser, byte[] type, int typeLength, boolean body, EventFacts facts)
      throws IOException;

  @Override
  public final void readEvent(
      byte[] type, int typeLength, byte[] data, int dataLength, EventFacts facts) {
    if (Bytes.isBlank(data, 0, dataLength)) {
      facts.parsed = true; // an empty event carries nothing, but is not a parse failure
      return;
    }
    try {
      JsonParser parser = events.open(data, 0, dataLength);
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        events.abandon();
        return;
      }
      readObject(parser, type, typeLength, false, facts);
      facts.parsed = events.finishDocument();
    } catch (IOException | RuntimeException e) {
      events.abandon();
      facts.parsed = false;
    }
  }

  @Override
  public final void readBody(byte[] body, int length, EventFacts facts) {
    try (JsonParser parser = ReusableJsonParser.FACTORY.createParser(body, 0, length)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return;
      }
      readObject(parser, NO_TYPE, 0, true, facts);
      facts.parsed = parser.nextToken() == null;
    } catch (IOException | RuntimeException e) {
      facts.parsed = false;
    }
  }

  @Override
  public boolean countsTokens() {
    return true;
  }

  @Override
  public void release() {
    events.release();
  }

  /** The token-bearing flags of one event, as choice 0: these APIs have one output stream. */
  static void addOutput(EventFacts facts, byte flags) {
    if (flags != 0) {
      facts.addChoice(0, flags);
    }
  }

  /** The event's type: the JSON {@code type} field when sent, else the SSE {@code event:} name. */
  static String typeOf(String jsonType, byte[] type, int typeLength) {
    if (jsonType != null || typeLength == 0) {
      return jsonType;
    }
    return new String(type, 0, typeLength, java.nio.charset.StandardCharsets.UTF_8).strip();
  }
}
