package dev.tokentap.proxy.record;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;

/**
 * One line of a trace capture (docs/bench.md, "Replaying a capture"): what {@link TraceCapture}
 * writes for a finished production request and what the bench's trace workload reads back. The
 * format is this class, in both directions.
 *
 * @param arrivalMillis wall-clock arrival, epoch milliseconds
 * @param offsetMicros arrival on the monotonic clock, microseconds after the capture started:
 *     replay keeps the gaps between these
 * @param inputTokens server-reported prompt tokens; -1 when unknown
 * @param outputTokens output tokens (source in {@code tokenSource}); -1 when there was no response
 * @param ttftMillis time to first token, NaN when none
 * @param e2eMillis first request byte to end of response
 * @param prefixHash 16 hex digits of SHA-256 over the prompt's first {@code prefixChars}
 *     characters; null when the body was not read (too large, not JSON)
 * @param prefixWhole the hash covers the entire prompt, so requests sharing it sent the same prompt
 * @param body the request body (a JSON object), only with {@code include-text}; otherwise null
 * @param tenant the tenant label (tokentap.metrics.tenant); null when tenants are off
 */
public record CaptureRecord(
    long arrivalMillis,
    long offsetMicros,
    String route,
    String model,
    String target,
    int status,
    String outcome,
    long inputTokens,
    long outputTokens,
    String tokenSource,
    double ttftMillis,
    double e2eMillis,
    long requestBytes,
    String prefixHash,
    int prefixChars,
    boolean prefixWhole,
    JsonNode body,
    String tenant) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The line for {@code r}; {@code startNanos} is the capture's start on the monotonic clock. */
  public static CaptureRecord of(FinishedRequest r, long startNanos) {
    RequestContent c = r.content();
    JsonNode body = null;
    if (c != null && c.body() != null) {
      try {
        // Re-serialised so that a pretty-printed body still fits on one line.
        body = JSON.readTree(c.body());
      } catch (IOException e) {
        body = null; // the inspector read it as JSON, so this does not happen
      }
    }
    return new CaptureRecord(
        r.wallClockStartMillis(),
        (r.startNanos() - startNanos) / 1000,
        r.route().label(),
        r.model(),
        r.target(),
        r.status(),
        r.outcome().label(),
        r.inputTokens(),
        r.outputTokens(),
        r.tokenSource().label(),
        r.ttftSeconds() * 1e3,
        r.e2eSeconds() * 1e3,
        r.requestBytes(),
        c == null ? null : prefixHash(c.promptHead()),
        c == null ? 0 : c.promptHead().length(),
        c != null && c.wholePrompt(),
        body,
        r.tenant());
  }

  /** A short stable name for a prompt's leading text: the first 8 bytes of its SHA-256, in hex. */
  public static String prefixHash(String head) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(head.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** Writes the record as one JSON object (no newline). */
  public void write(JsonGenerator g) throws IOException {
    g.writeStartObject();
    g.writeStringField("ts", Instant.ofEpochMilli(arrivalMillis).toString());
    g.writeNumberField("arrival_ms", arrivalMillis);
    g.writeNumberField("offset_us", offsetMicros);
    g.writeStringField("route", route);
    g.writeStringField("model", model);
    g.writeStringField("target", target);
    if (tenant != null) {
      g.writeStringField("tenant", tenant);
    }
    g.writeNumberField("status", status);
    g.writeStringField("outcome", outcome);
    if (inputTokens >= 0) {
      g.writeNumberField("input_tokens", inputTokens);
    }
    if (outputTokens >= 0) {
      g.writeNumberField("output_tokens", outputTokens);
    }
    g.writeStringField("token_source", tokenSource);
    if (!Double.isNaN(ttftMillis)) {
      g.writeNumberField("ttft_ms", Math.round(ttftMillis * 1e3) / 1e3);
    }
    g.writeNumberField("e2e_ms", Math.round(e2eMillis * 1e3) / 1e3);
    g.writeNumberField("request_bytes", requestBytes);
    if (prefixHash != null) {
      g.writeStringField("prefix_hash", prefixHash);
      g.writeNumberField("prefix_chars", prefixChars);
      g.writeBooleanField("prefix_whole", prefixWhole);
    }
    if (body != null) {
      g.writeFieldName("body");
      JSON.writeTree(g, body);
    }
    g.writeEndObject();
  }

  /**
   * Reads one line back.
   *
   * @throws IllegalArgumentException naming what is wrong (the caller adds the line number)
   */
  public static CaptureRecord parse(String line) {
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON (" + e.getOriginalMessage() + ")");
    }
    if (!(node instanceof ObjectNode o)) {
      throw new IllegalArgumentException("expected a JSON object (a tokentap capture record)");
    }
    if (!o.path("offset_us").isIntegralNumber() && !o.path("arrival_ms").isIntegralNumber()) {
      throw new IllegalArgumentException("no arrival time (expected: \"offset_us\" or \"arrival_ms\", an integer)");
    }
    long arrival = o.path("arrival_ms").asLong(-1);
    long offset = o.path("offset_us").isIntegralNumber() ? o.get("offset_us").asLong() : arrival * 1000;
    JsonNode body = o.get("body");
    if (body != null && !body.isObject()) {
      throw new IllegalArgumentException("\"body\" is not a JSON object");
    }
    return new CaptureRecord(
        arrival,
        offset,
        o.path("route").asText("chat"),
        o.path("model").asText("unknown"),
        o.path("target").asText(""),
        o.path("status").asInt(0),
        o.path("outcome").asText(""),
        tokens(o, "input_tokens"),
        tokens(o, "output_tokens"),
        o.path("token_source").asText("none"),
        o.path("ttft_ms").isNumber() ? o.get("ttft_ms").asDouble() : Double.NaN,
        o.path("e2e_ms").isNumber() ? o.get("e2e_ms").asDouble() : Double.NaN,
        o.path("request_bytes").asLong(0),
        o.path("prefix_hash").isTextual() ? o.get("prefix_hash").asText() : null,
        o.path("prefix_chars").asInt(0),
        o.path("prefix_whole").asBoolean(false),
        body,
        o.path("tenant").isTextual() ? o.get("tenant").asText() : null);
  }

  private static long tokens(ObjectNode o, String field) {
    JsonNode n = o.get(field);
    if (n == null || n.isNull()) {
      return -1;
    }
    if (!n.isIntegralNumber() || n.asLong() < 0) {
      throw new IllegalArgumentException("\"" + field + "\": " + n + " (expected: an integer >= 0)");
    }
    return n.asLong();
  }
}
