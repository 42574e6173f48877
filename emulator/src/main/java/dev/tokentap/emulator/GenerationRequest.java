package dev.tokentap.emulator;

/**
 * A generation request reduced to what the emulator honours, whatever API it came through.
 *
 * @param route the API's route label ({@code chat}, {@code completions}, {@code responses}, ...)
 * @param model the requested model, or the served model when the request named none
 * @param promptText the prompt as one string (seeds the output)
 * @param promptTokens estimated by {@link PromptTokenEstimator}
 * @param maxTokens output limit per choice
 * @param ignoreEos whether every choice runs to {@code maxTokens}
 * @param seed the request's {@code seed}, or null
 * @param n number of choices
 * @param stream whether to stream
 * @param includeUsage {@code stream_options.include_usage}
 * @param continuousUsage {@code stream_options.continuous_usage_stats} (with include_usage, as in
 *     current vLLM)
 * @param format tools to call or JSON to answer with ({@link OutputFormat#TEXT} for plain text)
 */
record GenerationRequest(
    String route,
    String model,
    String promptText,
    int promptTokens,
    int maxTokens,
    boolean ignoreEos,
    Long seed,
    int n,
    boolean stream,
    boolean includeUsage,
    boolean continuousUsage,
    OutputFormat format) {

  /** KV-cache tokens the engine reserves for this request while it runs. */
  long kvReservation() {
    return promptTokens + (long) n * maxTokens;
  }
}
