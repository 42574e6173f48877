/**
 * An OpenAI-compatible inference server emulation (also speaking the OpenAI Responses API,
 * Anthropic Messages and Ollama's native NDJSON API) with a continuous-batching timing model: the
 * upstream of Tokentap's tests, demo and benchmarks.
 *
 * <p>Public API: {@link dev.tokentap.emulator.Emulator} (start, port, listeners, stats, close), its
 * {@link dev.tokentap.emulator.EmulatorSettings}, {@link dev.tokentap.emulator.EngineProfile} and
 * {@link dev.tokentap.emulator.FixedTiming}, and what it reports: {@link
 * dev.tokentap.emulator.EmulatedRequest} (one JSON line each through {@link
 * dev.tokentap.emulator.RequestLog}) and {@link dev.tokentap.emulator.EngineStats}. Everything else
 * is package-private.
 *
 * <pre>
 *  client ─▶ EmulatorHttpHandler ─▶ GenerationExchange ──submit──▶ EngineLoop (own thread, real-time steps)
 *                                      ▲   │ ApiFraming (chat, completions, responses,   │
 *                                      │   │   messages, ollama chunks)                  │
 *                                      └───┴──────────── tokens per step ◀───────────────┘ (via the event loop)
 * </pre>
 *
 * With {@code fixed-timing} set, {@code FixedTimingEngine} takes EngineLoop's place: each sequence's
 * tokens at fixed times after its submit, unbatched. {@code /v1/embeddings} goes the same way through {@code EmbeddingExchange}: one prefill-only
 * sequence per input, answered with seeded unit vectors once all have prefilled.
 */
package dev.tokentap.emulator;
