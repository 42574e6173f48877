package dev.tokentap.emulator;

/**
 * What the emulator did with one generation request, reported once when it finished (completed,
 * cancelled by the client, or ended by a fault). Times are {@link System#nanoTime()} readings.
 *
 * @param route {@code chat}, {@code completions}, {@code responses}, {@code messages}, {@code
 *     ollama_chat}, {@code ollama_generate} (DESIGN §4 route label values) or {@code embeddings}
 *     (no output tokens: {@code stop} once answered, with no token times)
 * @param model the model the request named (or the served model when it named none)
 * @param stream whether the request asked for a stream
 * @param promptTokens estimated prompt tokens (rule in {@link PromptTokenEstimator})
 * @param completionTokens output tokens actually sent, all choices together (an end-of-sequence
 *     token counts, as in vLLM's usage)
 * @param finishReason {@code stop} or {@code length} (of choice 0) when completed; {@code
 *     cancelled} when the client went away; {@code error}, {@code reset} or {@code closed} for
 *     those faults; {@code status_CODE} (e.g. {@code status_503}) for an immediate error status. A
 *     stall fault delays a request without changing how it finishes.
 * @param arrivalNanos the whole request had been read
 * @param firstTokenNanos the first output token was handed to the socket; -1 if none
 * @param lastTokenNanos the last output token was handed to the socket; -1 if none
 * @param disconnectNanos the client's disconnect was seen, or -1
 */
public record EmulatedRequest(
    String route,
    String model,
    boolean stream,
    int promptTokens,
    int completionTokens,
    String finishReason,
    long arrivalNanos,
    long firstTokenNanos,
    long lastTokenNanos,
    long disconnectNanos) {}
