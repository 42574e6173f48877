package dev.tokentap.meter;

/**
 * The rules of one API's response format: which events end the stream, carry tokens, carry usage or
 * report an error (research/wire-formats.md §13). Everything that differs between APIs lives behind
 * this interface, so a new API is one new class; the {@link StreamMeter} only times and counts the
 * {@link EventFacts} a dialect reports.
 *
 * <p>One instance per meter: implementations keep reusable parser state. Methods never throw; a
 * body they cannot read leaves {@link EventFacts#parsed} false.
 */
interface Dialect {

  /**
   * Reads one SSE event into {@code facts}, which the caller has reset.
   *
   * @param type event type bytes, {@code typeLength == 0} for the default {@code message}
   */
  void readEvent(byte[] type, int typeLength, byte[] data, int dataLength, EventFacts facts);

  /** Reads a complete non-streaming JSON body (a response object or an error) into facts. */
  void readBody(byte[] body, int length, EventFacts facts);

  /**
   * Whether this dialect recognises token-bearing events; if not, N is {@link TokenSource#NONE}.
   */
  boolean countsTokens();

  /** Whether a complete stream ends with a terminator event, so one without it was cut short. */
  boolean expectsTerminator();

  /** Returns pooled parser buffers at the end of a response. */
  void release();

  /** The dialect for a route: OpenAI chat and legacy completions for now. */
  static Dialect forRoute(Route route) {
    switch (route) {
      case CHAT:
      case COMPLETIONS:
        return new OpenAiDialect();
      default:
        // Responses, Messages, generate and the rest get their own dialects; until then their
        // events are counted but not read, and no terminator is expected.
        return EventCountingDialect.INSTANCE;
    }
  }
}
