package dev.tokentap.meter;

import java.util.Locale;

/** How the {@link StreamMeter} reads a response body, chosen from its {@code Content-Type}. */
enum BodyKind {
  /** No head yet. */
  UNKNOWN,
  /** {@code text/event-stream}: events are decoded and timed as they arrive. */
  SSE,
  /** {@code application/x-ndjson}: one JSON object per line, timed as each line arrives. */
  NDJSON,
  /** {@code application/json} or {@code +json}: buffered up to a cap, read when it ends. */
  JSON,
  /** Anything else (or no type): bytes are only counted. */
  OPAQUE;

  /** Whether events are decoded and timed as they arrive. */
  boolean streaming() {
    return this == SSE || this == NDJSON;
  }

  /** The kind for a {@code Content-Type} header value (nullable), ignoring case and parameters. */
  static BodyKind of(String contentType) {
    if (contentType == null) {
      return OPAQUE;
    }
    int semicolon = contentType.indexOf(';');
    String mediaType =
        (semicolon < 0 ? contentType : contentType.substring(0, semicolon))
            .trim()
            .toLowerCase(Locale.ROOT);
    if (mediaType.equals("text/event-stream")) {
      return SSE;
    }
    if (mediaType.equals("application/x-ndjson") || mediaType.equals("application/ndjson")) {
      return NDJSON;
    }
    if (mediaType.equals("application/json") || mediaType.endsWith("+json")) {
      return JSON;
    }
    return OPAQUE;
  }
}
