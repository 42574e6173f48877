/**
 * {@code tokentap bench}: a load generator for OpenAI-compatible inference servers.
 *
 * <pre>
 * Workload ─▶ LoadPlan (closed loop | absolute ArrivalSchedule) ─▶ BenchRunner ─▶ StreamingClient
 *                                                                      │
 *        RequestRecord (Role.BENCH) ─▶ StreamMeter ◀── bytes, stamped on arrival
 *                                                                      ▼
 *                                              BenchSample × n ─▶ BenchReport (table, JSON, GeneratorCheck)
 *                                                                      │
 *                         KneeSearch / Stages: LoadStep × k ─▶ StepResults (JSON, steps.csv, report.html) ─▶ CapacityPlan
 * </pre>
 *
 * Formulas: docs/bench.md.
 */
package dev.tokentap.bench;
