package dev.tokentap.proxy.record;

import dev.tokentap.meter.MeterResult;
import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.Route;
import dev.tokentap.meter.TokenSource;

/**
 * One request, finished: what metrics, the access log and trace capture consume (DESIGN §2–3).
 * Times are {@link System#nanoTime()} readings; derived quantities are in seconds, NaN when the
 * request has none (no TTFT for a non-streaming response, no TPOT below two tokens).
 *
 * @param meter what the stream meter saw of the response; null when no response head arrived
 * @param status the status the client received (one tokentap generated when there was no response)
 * @param slo {@code met}, {@code missed} or {@code none}, decided when the record finished
 * @param inFlightAtStart requests of the same target and role in flight when this one started, it
 *     included: the load it met
 * @param content what trace capture keeps of the request body; null when capture is off or the
 *     body was not read
 * @param tenant the {@code tenant} label (bounded, never a raw API key); null when tenants are off
 */
public record FinishedRequest(
    Role role,
    String target,
    Route route,
    String model,
    String method,
    long wallClockStartMillis,
    long startNanos,
    long requestLastByteNanos,
    long sentNanos,
    long endNanos,
    int status,
    Outcome outcome,
    String slo,
    long requestBytes,
    long responseBytes,
    MeterResult meter,
    long inFlightAtStart,
    RequestContent content,
    String tenant) {

  public FinishedRequest(Role role, String target, Route route, String model, String method, long wallClockStartMillis,
      long startNanos, long requestLastByteNanos, long sentNanos, long endNanos, int status, Outcome outcome, String slo,
      long requestBytes, long responseBytes, MeterResult meter, long inFlightAtStart, RequestContent content) {
    this(role, target, route, model, method, wallClockStartMillis, startNanos, requestLastByteNanos, sentNanos, endNanos,
        status, outcome, slo, requestBytes, responseBytes, meter, inFlightAtStart, content, null);
  }

  public FinishedRequest(Role role, String target, Route route, String model, String method, long wallClockStartMillis,
      long startNanos, long requestLastByteNanos, long sentNanos, long endNanos, int status, Outcome outcome, String slo,
      long requestBytes, long responseBytes, MeterResult meter, long inFlightAtStart) {
    this(role, target, route, model, method, wallClockStartMillis, startNanos, requestLastByteNanos, sentNanos, endNanos,
        status, outcome, slo, requestBytes, responseBytes, meter, inFlightAtStart, null, null);
  }

  public double ttftSeconds() {
    return meter == null ? Double.NaN : meter.ttftSeconds(startNanos).orElse(Double.NaN);
  }

  /** Time to first visible (non-reasoning) output token. */
  public double ttfoSeconds() {
    return meter == null ? Double.NaN : meter.ttfoSeconds(startNanos).orElse(Double.NaN);
  }

  public double ttfbSeconds() {
    return meter == null ? Double.NaN : meter.ttfbSeconds(startNanos).orElse(Double.NaN);
  }

  public double e2eSeconds() {
    return seconds(endNanos - startNanos);
  }

  public double tpotSeconds() {
    return meter == null ? Double.NaN : meter.tpotSeconds();
  }

  /** Request-side proxy overhead: last request byte read to last request byte written upstream. */
  public double requestOverheadSeconds() {
    return sentNanos == MeterResult.NEVER || requestLastByteNanos == MeterResult.NEVER
        ? Double.NaN
        : seconds(Math.max(0, sentNanos - requestLastByteNanos));
  }

  public long outputTokens() {
    return meter == null ? -1 : meter.outputTokens();
  }

  public long inputTokens() {
    return meter == null ? -1 : meter.inputTokens();
  }

  public TokenSource tokenSource() {
    return meter == null ? TokenSource.NONE : meter.tokenSource();
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }
}
