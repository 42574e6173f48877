package dev.tokentap.meter;

/** How a request ended, as the {@code outcome} metric label (DESIGN.md §3). */
public enum Outcome {
  OK("ok"),
  /** Upstream status ≥ 400, or an error event inside a stream that started with 200. */
  ERROR("error"),
  CLIENT_ABORT("client_abort"),
  /** The upstream broke the stream, or ended it without the dialect's terminator. */
  UPSTREAM_ABORT("upstream_abort"),
  TIMEOUT("timeout"),
  /** Tokentap refused the request; the meter never produces it, the relay does. */
  REJECTED("rejected");

  private final String label;

  Outcome(String label) {
    this.label = label;
  }

  /** The metric label value. */
  public String label() {
    return label;
  }
}
