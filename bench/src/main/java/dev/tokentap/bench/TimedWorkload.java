package dev.tokentap.bench;

/**
 * A workload that brings its own arrival times ({@code trace:PATH}, {@code mooncake:PATH}), which
 * {@code --load trace[:SPEED]} replays; with any other load it supplies only the requests.
 */
public interface TimedWorkload extends Workload {
  /** The arrival time of each request, in the order {@link #request} numbers them. */
  TraceArrivals arrivals();
}
