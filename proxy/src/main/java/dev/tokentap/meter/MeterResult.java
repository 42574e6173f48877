package dev.tokentap.meter;

import java.util.OptionalDouble;

/**
 * What the {@link StreamMeter} measured for one response: the time points and counts of DESIGN.md
 * §2–3. All {@code *Nanos} values are {@link System#nanoTime()} readings as passed to the meter;
 * {@code -1} means the point was never reached.
 *
 * @param status upstream HTTP status ({@code 0} when no head arrived)
 * @param headNanos {@code t_head}
 * @param firstTokenNanos {@code t_first}: the first token-bearing event of any choice, reasoning
 *     included; {@code -1} if none (always for non-streaming bodies)
 * @param firstOutputNanos the first event with visible output (content, text, refusal, tool call;
 *     not reasoning), {@code -1} if none
 * @param lastTokenNanos {@code t_last}, {@code -1} if none
 * @param endNanos {@code t_end}: the response completed or broke; {@code -1} while it runs
 * @param events SSE events (or NDJSON lines) dispatched, {@code [DONE]} and events after it
 *     included, comments, blank lines and empty-data blocks excluded
 * @param tokenEvents token-bearing events
 * @param choices distinct choice indexes that carried tokens ({@code 0} when none did)
 * @param outputTokens N, counted as {@code tokenSource} says
 * @param tokenSource where N came from
 * @param inputTokens {@code prompt_tokens}, {@code -1} if unknown
 * @param cachedInputTokens {@code prompt_tokens_details.cached_tokens} (Responses: {@code
 *     input_tokens_details.cached_tokens}, Anthropic: {@code cache_read_input_tokens}), a part of
 *     the input; {@code -1} if unknown
 * @param reasoningTokens {@code completion_tokens_details.reasoning_tokens} (Responses: {@code
 *     output_tokens_details.reasoning_tokens}), a part of the output; {@code -1} if unknown
 * @param errorEvent the body carried an error (an {@code error} key or event, {@code
 *     response.failed}, or {@code finish_reason} {@code error}/{@code abort})
 * @param terminated the dialect's end-of-stream marker ({@code data: [DONE]}, {@code
 *     message_stop}, {@code done:true}, …) arrived, or, where the end of the body is the marker
 *     (Triton), the body ended cleanly
 * @param outcome how the request ended
 * @param tpotSeconds time per output token, {@code NaN} when it is undefined (N &lt; 2); see {@link
 *     StreamMeter} for n &gt; 1
 * @param bodyBytes response body bytes received from the upstream
 * @param finishReason why generation stopped, as the server last reported it; null when it did not
 */
public record MeterResult(
    int status,
    long headNanos,
    long firstTokenNanos,
    long firstOutputNanos,
    long lastTokenNanos,
    long endNanos,
    int events,
    int tokenEvents,
    int choices,
    long outputTokens,
    TokenSource tokenSource,
    long inputTokens,
    long cachedInputTokens,
    long reasoningTokens,
    boolean errorEvent,
    boolean terminated,
    Outcome outcome,
    double tpotSeconds,
    long bodyBytes,
    FinishReason finishReason) {

  /** The value of a {@code *Nanos} time point that was never reached. */
  public static final long NEVER = -1;

  private static final double NANOS_PER_SECOND = 1e9;

  /** TTFT = {@code t_first − t_start}, empty when no token arrived. */
  public OptionalDouble ttftSeconds(long startNanos) {
    return since(startNanos, firstTokenNanos);
  }

  /** Time to first visible output (AIPerf's TTFO), empty when none arrived. */
  public OptionalDouble ttfoSeconds(long startNanos) {
    return since(startNanos, firstOutputNanos);
  }

  /** TTFB = {@code t_head − t_start}, empty when no head arrived. */
  public OptionalDouble ttfbSeconds(long startNanos) {
    return since(startNanos, headNanos);
  }

  /** E2E = {@code t_end − t_start}, empty while the response runs. */
  public OptionalDouble e2eSeconds(long startNanos) {
    return since(startNanos, endNanos);
  }

  /** TPOT, empty when undefined. */
  public OptionalDouble tpot() {
    return Double.isNaN(tpotSeconds) ? OptionalDouble.empty() : OptionalDouble.of(tpotSeconds);
  }

  private static OptionalDouble since(long startNanos, long pointNanos) {
    // -1 is the "never" marker; other negative values are valid nanoTime readings.
    return pointNanos == NEVER
        ? OptionalDouble.empty()
        : OptionalDouble.of((pointNanos - startNanos) / NANOS_PER_SECOND);
  }
}
