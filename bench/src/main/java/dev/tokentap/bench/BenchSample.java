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
 * @param target the index of the {@code --target} it went to, in the order given (0 with one)
 */
public record BenchSample(
    long index,
    boolean warmup,
    long dispatchNanos,
    long sendNanos,
    int inFlightAtSend,
    FinishedRequest record,
    long[] itlGapsNanos,
    int turn,
    int target) {

  /** A request to the only target. */
  public BenchSample(long index, boolean warmup, long dispatchNanos, long sendNanos, int inFlightAtSend, FinishedRequest record,
      long[] itlGapsNanos, int turn) {
    this(index, warmup, dispatchNanos, sendNanos, inFlightAtSend, record, itlGapsNanos, turn, 0);
  }

  public long startNanos() {
    return record.startNanos();
  }

  public long endNanos() {
    return record.endNanos();
  }

  public boolean ok() {
    return record.outcome() == Outcome.OK;
  }

  /**
   * Abandoned by the bench itself ({@code --cancel}): the client closed the connection, the only way
   * a bench request ends as {@code client_abort}. Neither completed nor failed.
   */
  public boolean cancelled() {
    return record.outcome() == Outcome.CLIENT_ABORT;
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
