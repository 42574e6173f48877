package dev.tokentap.meter;

/** Where a record's output-token count N came from (DESIGN.md §3, {@code token_source}). */
public enum TokenSource {
  /** The server's own count ({@code usage.completion_tokens}). */
  USAGE("usage"),
  /** The number of token-bearing events: no server count was sent. */
  EVENTS("events"),
  /**
   * Some of the body could not be parsed (bad JSON, or more than the meter buffers): N is a guess.
   */
  UNPARSED("unparsed"),
  /** Nothing to count: an opaque body, an error body, or a route the meter has no dialect for. */
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
