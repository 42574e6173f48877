package dev.tokentap.meter;

/**
 * The API operation a request called, as the {@code route} metric label (DESIGN.md §4). It picks
 * the {@link Dialect} the {@link StreamMeter} reads the response with.
 */
public enum Route {
  CHAT("chat"),
  COMPLETIONS("completions"),
  RESPONSES("responses"),
  MESSAGES("messages"),
  GENERATE("generate"),
  EMBEDDINGS("embeddings"),
  OTHER("other");

  private final String label;

  Route(String label) {
    this.label = label;
  }

  /** The metric label value. */
  public String label() {
    return label;
  }
}
