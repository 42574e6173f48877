package dev.tokentap.meter;

/**
 * The dialect for requests of no known API ({@link Api#UNKNOWN}, route {@code other}): events are
 * counted, bodies are not read, no token is recognised and no terminator is expected; the record
 * says {@code token_source=unparsed}.
 */
final class EventCountingDialect implements Dialect {
  static final EventCountingDialect INSTANCE = new EventCountingDialect();

  private EventCountingDialect() {}

  @Override
  public void readEvent(
      byte[] type, int typeLength, byte[] data, int dataLength, EventFacts facts) {
    facts.parsed = true;
  }

  @Override
  public void readBody(byte[] body, int length, EventFacts facts) {
    facts.parsed = true;
  }

  @Override
  public boolean countsTokens() {
    return false;
  }

  @Override
  public boolean expectsTerminator() {
    return false;
  }

  @Override
  public void release() {}
}
