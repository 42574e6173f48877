package dev.tokentap.meter;

/**
 * The dialect for routes the meter cannot read yet: events are counted and timed as such, bodies
 * are not read, no token is recognised and no terminator is expected.
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
