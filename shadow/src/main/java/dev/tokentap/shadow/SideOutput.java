package dev.tokentap.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.meter.Api;
import dev.tokentap.meter.FinishReason;
import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.OutputObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One side of a compared pair, production's response or the first copy's to one target: what its
 * output said, read from the events its meter shows ({@link OutputEvents}) and kept in memory only,
 * bounded: the text up to {@value #CHARS_PER_TOKEN} characters per kept token, at most {@value
 * #MAX_TOOL_CALLS} tool calls with arguments up to as many bytes each, a non-streamed body up to
 * {@link #maxBodyBytes} (beyond, the side is {@link #unread()}). The counts and the finish reason
 * come from the finished record, as metered.
 *
 * <p>Written on its request's event loop until {@link #onFinished}; read by the pair once every side
 * finished (the pair's lock orders the two).
 */
final class SideOutput implements OutputObserver {
  static final int CHARS_PER_TOKEN = 16;
  static final int MAX_TOOL_CALLS = 16;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A function call: its name and its arguments' JSON text as far as kept. */
  record ToolCall(String name, StringBuilder arguments) {}

  private final Api api;
  private final int maxChars;
  private final int maxBodyBytes;
  private final Runnable onDone;
  private final StringBuilder text = new StringBuilder();
  private final List<ToolCall> toolCalls = new ArrayList<>();
  private byte[] body;
  private int bodyLength;
  private boolean unread;
  private FinishedRequest finished;
  private boolean ended; // finished or not sent: the pair hears of it once
  private boolean notSent;

  SideOutput(Api api, int maxTokens, Runnable onDone) {
    this.api = api;
    this.maxChars = maxTokens * CHARS_PER_TOKEN;
    this.maxBodyBytes = 64 * 1024 + 2 * maxChars;
    this.onDone = onDone;
  }

  @Override
  public void onEvent(byte[] type, int typeLength, byte[] data, int dataLength) {
    if (dataLength == 0 || data[0] != '{') {
      return; // [DONE] and the like
    }
    try {
      OutputEvents.read(api, JSON.readTree(data, 0, dataLength), this);
    } catch (IOException e) {
      unread = true;
    }
  }

  @Override
  public void onJsonBody(byte[] bytes, int offset, int length) {
    if (unread) {
      return;
    }
    if (bodyLength + length > maxBodyBytes) {
      unread = true; // larger than any body the kept output needs: not compared
      body = null;
      return;
    }
    if (body == null || body.length < bodyLength + length) {
      body = Arrays.copyOf(body == null ? new byte[0] : body, Math.min(maxBodyBytes, Math.max(4096, 2 * (bodyLength + length))));
    }
    System.arraycopy(bytes, offset, body, bodyLength, length);
    bodyLength += length;
  }

  @Override
  public void onFinished(FinishedRequest request) {
    if (ended) {
      return;
    }
    ended = true;
    if (body != null && !unread) {
      try {
        OutputEvents.read(api, JSON.readTree(body, 0, bodyLength), this);
      } catch (IOException e) {
        unread = true;
      }
      body = null;
    }
    finished = request;
    onDone.run();
  }

  /** The copy was dropped before it left (queue, rate limit, breaker, bulkhead, shutdown). */
  void notSent() {
    if (!ended) {
      ended = true;
      notSent = true;
      onDone.run();
    }
  }

  boolean wasNotSent() {
    return notSent;
  }

  void appendText(String part) {
    if (part != null && text.length() < maxChars) {
      text.append(part, 0, Math.min(part.length(), maxChars - text.length()));
    }
  }

  /** Opens tool call {@code index} (or names it, when it was opened without a name). */
  void toolCall(int index, String name) {
    while (toolCalls.size() <= index && toolCalls.size() < MAX_TOOL_CALLS) {
      toolCalls.add(new ToolCall(null, new StringBuilder()));
    }
    if (index < toolCalls.size() && name != null && toolCalls.get(index).name() == null) {
      toolCalls.set(index, new ToolCall(name, toolCalls.get(index).arguments()));
    }
  }

  void appendArguments(int index, String part) {
    toolCall(index, null);
    if (part != null && index < toolCalls.size()) {
      StringBuilder arguments = toolCalls.get(index).arguments();
      arguments.append(part, 0, Math.max(0, Math.min(part.length(), maxChars - arguments.length())));
    }
  }

  int toolCallCount() {
    return toolCalls.size();
  }

  // ---------------------------------------------------------------- once finished

  boolean isFinished() {
    return finished != null;
  }

  String text() {
    return text.toString();
  }

  List<ToolCall> toolCalls() {
    return toolCalls;
  }

  /** The output could not be read (a body past the limit, or not JSON): it is not compared. */
  boolean unread() {
    return unread;
  }

  /** The response did not end well: an error status or event, a broken stream, a timeout. */
  boolean errored() {
    return finished == null || finished.outcome() != Outcome.OK;
  }

  FinishReason finishReason() {
    return finished == null || finished.meter() == null ? null : finished.meter().finishReason();
  }

  /** Output tokens as metered (the usage, else the token-bearing events); -1 when unknown. */
  long outputTokens() {
    return finished == null ? -1 : finished.outputTokens();
  }

  /** {@code json} read as a JSON value, or null when it is not one. */
  static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      return null;
    }
  }

  static JsonNode parse(byte[] json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      return null;
    }
  }
}
