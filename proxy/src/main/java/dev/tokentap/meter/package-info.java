/**
 * The stream meter: times and counts one LLM response from its bytes and arrival times.
 *
 * <p>Entry point {@link dev.tokentap.meter.StreamMeter}; result {@link
 * dev.tokentap.meter.MeterResult}. Framing is {@link dev.tokentap.meter.SseEventDecoder} (WHATWG
 * SSE) or {@code NdjsonLineDecoder}, chosen by {@code Content-Type}; what an event means is a
 * {@code Dialect}, one class per {@link dev.tokentap.meter.Api}: {@code OpenAiDialect} (chat and
 * legacy completions, llama.cpp's extensions), {@code ResponsesDialect}, {@code AnthropicDialect},
 * {@code OllamaDialect}, {@code TgiDialect}, {@code TritonDialect}, {@code EmbeddingsDialect}.
 * The contract (time points, formulas, outcomes, usage injection) is DESIGN.md §2–3;
 * the wire formats and the rules for a correct token timer are research/wire-formats.md.
 */
package dev.tokentap.meter;
