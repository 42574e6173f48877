package dev.tokentap.bench;

/**
 * A source of requests. {@code request(i)} is deterministic in {@code i} (given the seed), so a run
 * is reproducible; file workloads cycle through their entries.
 */
public interface Workload {
  BenchRequest request(long index);

  /** A short description for the report. */
  String describe();
}
