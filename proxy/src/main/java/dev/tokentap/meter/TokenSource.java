package dev.tokentap.meter;

/** Where a record's output-token count N came from (DESIGN.md §3, {@code token_source}). */
public enum TokenSource {
  /**
   * The server's own count ({@code usage.completion_tokens}, {@code output_tokens}, {@code
   * eval_count}, {@code details.generated_tokens}, llama.cpp {@code timings.predicted_n}, the sum
   * of Triton's {@code num_output_tokens}).
   */
  USAGE("usage"),
  /** The number of token-bearing events: no server count was sent. */
  EVENTS("events"),
  /**
   * Some of the body could not be parsed (bad JSON, or more than the meter buffers), or the route
   * has no dialect ({@code route="other"}): N is a guess, or unknown.
   */
  UNPARSED("unparsed"),
  /** Nothing to count: an opaque body, an error body, or embeddings (which generate no output). */
  NONE("none");

  private final String label;

  TokenSource(String label) {
    this.label = label;
  }

  /** The access-log and metric label value. */
  public String label() {
    return label;
  }
}
