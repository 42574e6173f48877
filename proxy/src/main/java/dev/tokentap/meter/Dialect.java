package dev.tokentap.meter;

/**
 * The rules of one API's response format: which events end the stream, carry tokens, carry usage or
 * report an error (research/wire-formats.md §13). Everything that differs between APIs lives behind
 * this interface, so a new API is one new class (plus its {@link Api} constant and fixtures); the
 * {@link StreamMeter} only times and counts the {@link EventFacts} a dialect reports.
 *
 * <p>One instance per meter: implementations keep reusable parser state. Methods never throw; a
 * body they cannot read leaves {@link EventFacts#parsed} false.
 */
interface Dialect {

  /**
   * Reads one SSE event or NDJSON line into {@code facts}, which the caller has reset.
   *
   * @param type event type bytes, {@code typeLength == 0} for the default {@code message} (and
   *     for every NDJSON line)
   */
  void readEvent(byte[] type, int typeLength, byte[] data, int dataLength, EventFacts facts);

  /** Reads a complete non-streaming JSON body (a response object or an error) into facts. */
  void readBody(byte[] body, int length, EventFacts facts);

  /**
   * Whether this dialect recognises token-bearing events; if not, N is {@link TokenSource#NONE}.
   */
  boolean countsTokens();

  /**
   * Whether a complete stream ends with a terminator event, so one without it was cut short. When
   * false, the end of the body is the terminator (Triton) and a clean end terminates the stream.
   */
  boolean expectsTerminator();

  /** Whether responses carry generated output; embeddings do not, so N is 0 by definition. */
  default boolean generatesOutput() {
    return true;
  }

  /** Returns pooled parser buffers at the end of a response. */
  void release();

  /** The dialect that reads {@code api}: one class per API, every rule of that API in it. */
  static Dialect forApi(Api api) {
    return switch (api) {
      case OPENAI -> new OpenAiDialect();
      case OPENAI_RESPONSES -> new ResponsesDialect();
      case ANTHROPIC -> new AnthropicDialect();
      case OLLAMA -> new OllamaDialect();
      case TGI -> new TgiDialect();
      case TRITON -> new TritonDialect();
      case EMBEDDINGS -> new EmbeddingsDialect();
      case UNKNOWN -> EventCountingDialect.INSTANCE;
    };
  }
}
