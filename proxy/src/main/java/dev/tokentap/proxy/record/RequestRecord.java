package dev.tokentap.proxy.record;

import dev.tokentap.meter.Api;
import dev.tokentap.meter.MeterResult;
import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.Route;
import dev.tokentap.meter.StreamMeter;
import dev.tokentap.meter.TokenGapListener;
import dev.tokentap.proxy.metrics.TokentapMetrics;

/**
 * The state of one request while it is in flight, created when its first byte is read and finished
 * exactly once by one lifecycle event: the response completed or broke ({@link #finish}), or there
 * was no response to relay ({@link #finishWithoutResponse}). Confined to one thread (the event loop
 * of the connection), so nothing here is synchronised.
 */
public final class RequestRecord {
  private final RequestRecorder recorder;
  private final Role role;
  private final String target;
  private final long startNanos;
  private final long wallClockStartMillis;

  private Route route = Route.OTHER;
  private Api api = Api.UNKNOWN;
  private String model = "unknown";
  private String rawModel;
  private String tenant; // the label; null when tenants are off
  private String rawTenant;
  private String method = "";
  private long requestLastByteNanos = MeterResult.NEVER;
  private long sentNanos = MeterResult.NEVER;
  private long requestBytes;
  private long responseBytes;
  private StreamMeter meter;
  /** This request's label set's meters, once looked up. */
  private TokentapMetrics.Series series;
  private boolean finished;
  private RequestContent content;
  private OutputObserver output; // opt-in, null unless a sampled comparison asked for it
  private final long inFlightAtStart;

  RequestRecord(RequestRecorder recorder, Role role, String target, long startNanos, long wallClockStartMillis, long inFlightAtStart) {
    this.inFlightAtStart = inFlightAtStart;
    this.recorder = recorder;
    this.role = role;
    this.target = target;
    this.startNanos = startNanos;
    this.wallClockStartMillis = wallClockStartMillis;
    this.tenant = recorder.tenantLabel(null);
  }

  /** What was asked, with {@code route}'s usual response format. */
  public void describe(String method, Route route, String rawModel) {
    describe(method, route, Api.defaultFor(route), rawModel);
  }

  /**
   * What was asked: the route is the label, the api decides the dialect; the model (as the client
   * named it) is normalised here.
   */
  public void describe(String method, Route route, Api api, String rawModel) {
    this.method = method;
    this.route = route;
    this.api = api;
    this.rawModel = rawModel;
    this.model = recorder.modelLabel(rawModel);
  }

  /**
   * Whose request this is ({@code tokentap.metrics.tenant}): a header value, a hashed API key or a
   * path segment, as the relay found it (null: none); bounded into the label here.
   */
  public void tenant(String raw) {
    this.rawTenant = raw;
    this.tenant = recorder.tenantLabel(raw);
  }

  /** The meter for this request's response, created on first use with the usage-injection flag. */
  public StreamMeter meter(boolean usageInjected) {
    return meter(usageInjected, null);
  }

  /**
   * The meter for this request's response; on first use, each inter-token gap it measures also goes
   * to {@code alsoGaps} (the bench keeps every gap of its requests for its report), besides the
   * series' ITL histogram.
   */
  public StreamMeter meter(boolean usageInjected, TokenGapListener alsoGaps) {
    if (meter == null) {
      TokenGapListener series = series();
      meter = new StreamMeter(api, usageInjected, alsoGaps == null ? series : new BothGaps(series, alsoGaps), recorder.maxInspectedResponseBody());
      if (output != null) {
        meter.collectOutput(output);
      }
    }
    return meter;
  }

  /**
   * Looks up this request's series now, registering its meters if it is the label set's first
   * request: call once the request is described and before it leaves, so that set-up is not paid
   * between reading the response's first token and relaying it (docs/performance.md, "Warm from the
   * first request").
   */
  public void resolveSeries() {
    series();
  }

  private TokentapMetrics.Series series() {
    if (series == null) {
      series = recorder.series(model, route, target, role, tenant);
    }
    return series;
  }

  /** Gaps and tokens-per-event to two listeners: the series first, then the caller's. */
  private record BothGaps(TokenGapListener first, TokenGapListener second) implements TokenGapListener {
    @Override
    public void interTokenGap(long gapNanos) {
      first.interTokenGap(gapNanos);
      second.interTokenGap(gapNanos);
    }

    @Override
    public void tokensPerEvent(long tokens) {
      first.tokensPerEvent(tokens);
      second.tokensPerEvent(tokens);
    }
  }

  public StreamMeter meterOrNull() {
    return meter;
  }

  /**
   * Shows {@code observer} this request's output and then its finished record (opt-in: the shadow
   * comparison's sampled pairs). One observer per record: a second is ignored.
   */
  public void observeOutput(OutputObserver observer) {
    if (output != null || finished) {
      return;
    }
    output = observer;
    if (meter != null) {
      meter.collectOutput(observer);
    }
  }

  public void requestBodyRead(long nanos, long bytes) {
    requestLastByteNanos = nanos;
    requestBytes = bytes;
  }

  /** What trace capture keeps of the body; set only while capture is enabled. */
  public void content(RequestContent content) {
    this.content = content;
  }

  /**
   * The request goes once more on a new connection, for {@code reason} ({@code
   * tokentap_upstream_retries_total}): its server cannot have acted on the first send.
   */
  public void sentAgain(String reason) {
    recorder.metrics().upstreamRetry(target, reason);
  }

  public void requestSent(long nanos) {
    sentNanos = nanos;
  }

  public void responseBytes(long bytes) {
    responseBytes += bytes;
  }

  public long startNanos() {
    return startNanos;
  }

  public Route route() {
    return route;
  }

  public String model() {
    return model;
  }

  public boolean isFinished() {
    return finished;
  }

  /**
   * The response head was relayed and the response has ended: completed ({@code broken == null}) or
   * broken with the given outcome. The meter decides the outcome.
   */
  public FinishedRequest finish(Outcome broken, long nanos) {
    StreamMeter m = meter;
    if (m == null) {
      // Ended before any response head arrived: nothing was metered.
      return done(0, broken == null ? Outcome.UPSTREAM_ABORT : broken, null, nanos);
    }
    if (broken == null) {
      m.onComplete(nanos);
    } else {
      m.onBroken(broken, nanos);
    }
    MeterResult result = m.result();
    return done(result.status(), result.outcome(), result, nanos);
  }

  /** No upstream response was relayed: tokentap answered {@code status} itself (0 when the client was gone). */
  public FinishedRequest finishWithoutResponse(Outcome outcome, int status, long nanos) {
    return done(status, outcome, null, nanos);
  }

  private FinishedRequest done(int status, Outcome outcome, MeterResult result, long endNanos) {
    if (finished) {
      throw new IllegalStateException("request already finished");
    }
    finished = true;
    recorder.modelFinished(rawModel);
    recorder.tenantFinished(rawTenant);
    double ttft = result == null ? Double.NaN : result.ttftSeconds(startNanos).orElse(Double.NaN);
    double tpot = result == null ? Double.NaN : result.tpotSeconds();
    String slo = recorder.slos().judge(model, route.label(), outcome, ttft, tpot, (endNanos - startNanos) / 1e9);
    FinishedRequest f =
        new FinishedRequest(role, target, route, model, method, wallClockStartMillis, startNanos, requestLastByteNanos,
            sentNanos, endNanos, status, outcome, slo, requestBytes, responseBytes, result, inFlightAtStart, content, tenant);
    recorder.finished(f);
    if (output != null) {
      try {
        output.onFinished(f);
      } catch (RuntimeException e) {
        // an observer's failure never reaches the relay
      }
    }
    return f;
  }
}
