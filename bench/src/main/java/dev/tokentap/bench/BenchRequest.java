package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import dev.tokentap.meter.Route;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One request a workload produces: where it goes and its JSON body.
 *
 * @param path the request path, e.g. {@code /v1/chat/completions}
 * @param route the API operation (decides the stream dialect and the metric label)
 * @param model the model named in the body
 * @param body the JSON body, streaming with usage requested
 * @param expectedInputTokens what the workload intended (estimated), {@code -1} if unknown
 * @param expectedOutputTokens {@code max_tokens} asked for, {@code -1} if none
 * @param followUp builds the request to send once this one has finished (a conversation's next
 *     turn), null if none; built on demand because a whole conversation's histories grow
 *     quadratically with its turns
 * @param headers sent with the request besides the client's own (a session id, {@link Sessions})
 * @param thinkNanos a conversation's later turn: how long after the previous turn ended it is sent
 *     (the user's think time); 0 for at once
 */
public record BenchRequest(
    String path, Route route, String model, byte[] body, int expectedInputTokens, int expectedOutputTokens,
    Supplier<BenchRequest> followUp, Map<String, String> headers, long thinkNanos) {
  public BenchRequest {
    requireNonNull(path, "path");
    requireNonNull(route, "route");
    requireNonNull(model, "model");
    requireNonNull(body, "body");
    headers = Map.copyOf(headers);
    if (thinkNanos < 0) {
      throw new IllegalArgumentException("thinkNanos: " + thinkNanos + " (expected: >= 0)");
    }
  }

  /** A request with no headers of its own, sent as soon as it is due. */
  public BenchRequest(
      String path, Route route, String model, byte[] body, int expectedInputTokens, int expectedOutputTokens,
      Supplier<BenchRequest> followUp) {
    this(path, route, model, body, expectedInputTokens, expectedOutputTokens, followUp, Map.of(), 0);
  }

  /** A request that stands alone. */
  public BenchRequest(
      String path, Route route, String model, byte[] body, int expectedInputTokens, int expectedOutputTokens) {
    this(path, route, model, body, expectedInputTokens, expectedOutputTokens, null);
  }

  /** The request to send after this one, or null when nothing follows. */
  public BenchRequest next() {
    return followUp == null ? null : followUp.get();
  }
}
