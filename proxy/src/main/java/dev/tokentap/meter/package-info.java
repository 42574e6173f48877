/**
 * The stream meter: times and counts one LLM response from its bytes and arrival times.
 *
 * <p>Entry point {@link dev.tokentap.meter.StreamMeter}; result {@link
 * dev.tokentap.meter.MeterResult}. Framing is {@link dev.tokentap.meter.SseEventDecoder} (WHATWG
 * SSE); what an event means is a {@code Dialect} ({@code OpenAiDialect} for chat and legacy
 * completions). The contract (time points, formulas, outcomes, usage injection) is DESIGN.md §2–3;
 * the wire formats and the rules for a correct token timer are research/wire-formats.md.
 */
package dev.tokentap.meter;
