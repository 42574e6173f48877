package dev.tokentap.bench;

import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.metrics.SloPolicy;

/**
 * One finished bench request: the proxy's record plus what only the bench knows.
 *
 * @param index the request's position in the run
 * @param warmup excluded from the report
 * @param dispatchNanos when the dispatcher reached it (its lag behind the schedule is {@code
 *     dispatchNanos − record.startNanos()})
 * @param sendNanos when it was handed to the HTTP client, after any concurrency-ceiling wait
 * @param inFlightAtSend bench requests in flight, this one included, right after it was handed over
 * @param itlGapsNanos every gap between consecutive token-bearing events (ITL, per gap)
 * @param turn 0 for a request the load started; k for the k-th later turn of its conversation,
 *     sent when the previous turn finished (no intended time: its clock starts when it is sent)
 */
public record BenchSample(
    long index,
    boolean warmup,
    long dispatchNanos,
    long sendNanos,
    int inFlightAtSend,
    FinishedRequest record,
    long[] itlGapsNanos,
    int turn) {

  public long startNanos() {
    return record.startNanos();
  }

  public long endNanos() {
    return record.endNanos();
  }

  public boolean ok() {
    return record.outcome() == Outcome.OK;
  }

  /** Met every configured SLO (DistServe: errors are never good). */
  public boolean good() {
    return SloPolicy.MET.equals(record.slo());
  }

  /** Client-side queueing: intended start to the hand-off to the HTTP client. */
  public double queueSeconds() {
    return (sendNanos - record.startNanos()) / 1e9;
  }

  /** How late the dispatcher was for this request's intended time. */
  public double scheduleLagSeconds() {
    return (dispatchNanos - record.startNanos()) / 1e9;
  }
}
