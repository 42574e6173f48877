package dev.tokentap.shadow;

/** The fate of one shadow copy: the {@code result} label of {@code tokentap_shadow_copies_total}. */
enum CopyResult {
  /** Sent, and staging's response (status below 500) was read to its end. */
  SENT("sent"),
  DROPPED_QUEUE_FULL("dropped_queue_full"),
  DROPPED_BULKHEAD("dropped_bulkhead"),
  DROPPED_CIRCUIT_OPEN("dropped_circuit_open"),
  DROPPED_RATE_LIMIT("dropped_rate_limit"),
  SKIPPED_BODY_TOO_LARGE("skipped_body_too_large"),
  /** Could not connect, timed out, answered 5xx, or the response broke before its end. */
  FAILED("failed");

  final String label;

  CopyResult(String label) {
    this.label = label;
  }
}
