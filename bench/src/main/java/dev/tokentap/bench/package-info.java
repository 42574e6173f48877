/**
 * {@code tokentap bench}: a load generator for OpenAI-compatible inference servers.
 *
 * <pre>
 * BenchWarmup (--warmup) + Workload ─▶ LoadPlan (closed loop | absolute ArrivalSchedule) ─▶ BenchRunner ─▶ StreamingClient
 *                                                                      │
 *        RequestRecord (Role.BENCH) ─▶ StreamMeter ◀── bytes, stamped on arrival
 *                                                                      ▼
 *                                              BenchSample × n ─▶ BenchReport ─▶ ConsoleSummary, ResultJson (vLLM keys),
 *                                                                      │           RequestsJsonl, RunTimeline
 *                                                                      │  GeneratorCheck: lag, hiccups, SocketLateness
 *                         KneeSearch / Stages: LoadStep × k ─▶ StepResults (JSON + RunInfo, steps.csv,
 *                                                   report.html: RunHtmlReport | HtmlReport) ─▶ CapacityPlan
 * </pre>
 *
 * Formulas: docs/bench.md.
 */
package dev.tokentap.bench;
