package dev.tokentap.meter;

/**
 * Opt-in: shown what a {@link StreamMeter} reads of a response's output, for a consumer that keeps
 * some of it (the shadow comparison, for a sampled share of requests). A meter without one keeps no
 * text at all. Called on the meter's thread; the arrays are the meter's own and reused after the
 * call returns, so an implementation copies what it keeps. Anything it throws is caught and
 * ignored: the meter's figures never depend on it.
 */
public interface OutputCollector {

  /** One complete SSE event's data (or NDJSON line) before the stream's terminator. */
  void onEvent(byte[] type, int typeLength, byte[] data, int dataLength);

  /** Part of a non-streaming JSON body, in order. */
  void onJsonBody(byte[] bytes, int offset, int length);
}
