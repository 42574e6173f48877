package dev.tokentap.bench;

/**
 * One load level of a sweep or a stage list, run independently and reported on its own.
 *
 * @param index the step's position in run order, from 1
 * @param level the rate (requests/s) or concurrency it ran at
 * @param passed SLO attainment reached the target (always false without SLOs)
 */
public record LoadStep(int index, double level, boolean passed, BenchReport report) {}
