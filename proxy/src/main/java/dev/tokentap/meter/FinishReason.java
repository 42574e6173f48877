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

  /** Every spelling folded into a reason; anything else is {@link #OTHER}. */
  static final String[] SPELLINGS = {
    "stop", "end_turn", "stop_sequence", "eos_token", "eos", "completed",
    "length", "max_tokens", "max_output_tokens", "model_length",
    "tool_calls", "function_call", "tool_use",
    "content_filter", "refusal",
    "error", "abort", "failed"
  };

  static final FinishReason[] REASONS = {
    STOP, STOP, STOP, STOP, STOP, STOP,
    LENGTH, LENGTH, LENGTH, LENGTH,
    TOOL_CALLS, TOOL_CALLS, TOOL_CALLS,
    CONTENT_FILTER, CONTENT_FILTER,
    ERROR, ERROR, ERROR
  };

  /** The reason a server spelled {@code value}; null for null. */
  public static FinishReason of(String value) {
    if (value == null) {
      return null;
    }
    for (int i = 0; i < SPELLINGS.length; i++) {
      if (SPELLINGS[i].equals(value)) {
        return REASONS[i];
      }
    }
    return OTHER;
  }

  /** Lower-case name, as in JSON output. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
