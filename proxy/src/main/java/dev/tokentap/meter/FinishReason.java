package dev.tokentap.meter;

/**
 * Why generation stopped, as the server reported it, folded into one small set across dialects
 * (OpenAI {@code finish_reason}, Anthropic {@code stop_reason}, Ollama {@code done_reason},
 * Responses {@code status}/{@code incomplete_details.reason}). Bounded, so it may be a label or a
 * comparison key; the server's own spelling is not kept.
 */
public enum FinishReason {
  /** A natural end: a stop token or stop sequence ({@code stop}, {@code end_turn}, {@code eos_token}). */
  STOP,
  /** The output-token limit ({@code length}, {@code max_tokens}, {@code max_output_tokens}). */
  LENGTH,
  /** The model called a tool ({@code tool_calls}, {@code function_call}, {@code tool_use}). */
  TOOL_CALLS,
  /** A safety filter or refusal ({@code content_filter}, {@code refusal}). */
  CONTENT_FILTER,
  /** The server gave up ({@code error}, {@code abort}, {@code response.failed}). */
  ERROR,
  /** Anything else the server names. */
  OTHER;

  /** The reason a server spelled {@code value}; null for null. */
  public static FinishReason of(String value) {
    if (value == null) {
      return null;
    }
    return switch (value) {
      case "stop", "end_turn", "stop_sequence", "eos_token", "eos", "completed" -> STOP;
      case "length", "max_tokens", "max_output_tokens", "model_length" -> LENGTH;
      case "tool_calls", "function_call", "tool_use" -> TOOL_CALLS;
      case "content_filter", "refusal" -> CONTENT_FILTER;
      case "error", "abort", "failed" -> ERROR;
      default -> OTHER;
    };
  }

  /** Lower-case name, as in JSON output. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
