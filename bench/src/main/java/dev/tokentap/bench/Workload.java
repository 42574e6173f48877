package dev.tokentap.bench;

/**
 * A source of requests. {@code request(i)} is deterministic in {@code i} (given the seed), so a run
 * is reproducible; file workloads cycle through their entries. A request may bring later ones
 * ({@link BenchRequest#followUp()}: a conversation's next turns), which the runner sends after it.
 */
public interface Workload {
  BenchRequest request(long index);

  /** A short description for the report. */
  String describe();

  /** Whether requests bring later turns ({@code sharegpt:PATH:turns=all}): conversations, which {@link Sessions} make sessions. */
  default boolean multiTurn() {
    return false;
  }
}
