/**
 * {@code tokentap bench}: a load generator for OpenAI-compatible inference servers.
 *
 * <pre>
 * Workload ─▶ LoadPlan (closed loop | absolute ArrivalSchedule) ─▶ BenchRunner ─▶ StreamingClient
 *                                                                      │
 *        RequestRecord (Role.BENCH) ─▶ StreamMeter ◀── bytes, stamped on arrival
 *                                                                      ▼
 *                                              BenchSample × n ─▶ BenchReport (table, JSON)
 * </pre>
 *
 * Formulas: docs/bench.md.
 */
package dev.tokentap.bench;
