package dev.tokentap.bench;

/**
 * Watches a bench session while it runs: the live {@code /metrics} gauges ({@link BenchMetrics}) and
 * the progress line ({@link BenchProgress}). Every call but the step boundaries comes from the
 * runner's dispatcher or the HTTP client's threads, so implementations must not block or take
 * locks there.
 */
public interface BenchListener {
  BenchListener NONE = new BenchListener() {};

  /** Step {@code step} (1-based: each run of a session is a step) starts; on the caller's thread. */
  default void stepStarted(int step, BenchRunner.Options options) {}

  /** A request was handed to the HTTP client. */
  default void sent() {}

  /** Open loop: the dispatcher reached a request {@code lagNanos} after its intended send time. */
  default void scheduleLag(long lagNanos) {}

  /** A request finished (warm-up ones too). */
  default void finished(BenchSample sample) {}

  /** The step has drained and been reported; on the caller's thread. */
  default void stepFinished(int step, BenchReport report) {}

  /** Both, in order. */
  static BenchListener of(BenchListener first, BenchListener second) {
    return new BenchListener() {
      @Override
      public void stepStarted(int step, BenchRunner.Options options) {
        first.stepStarted(step, options);
        second.stepStarted(step, options);
      }

      @Override
      public void sent() {
        first.sent();
        second.sent();
      }

      @Override
      public void scheduleLag(long lagNanos) {
        first.scheduleLag(lagNanos);
        second.scheduleLag(lagNanos);
      }

      @Override
      public void finished(BenchSample sample) {
        first.finished(sample);
        second.finished(sample);
      }

      @Override
      public void stepFinished(int step, BenchReport report) {
        first.stepFinished(step, report);
        second.stepFinished(step, report);
      }
    };
  }
}
