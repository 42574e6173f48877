package dev.tokentap.proxy.relay;

import dev.tokentap.meter.Api;
import java.nio.charset.StandardCharsets;

/**
 * The fields of a JSON request body the relay acts on, with the byte offsets usage injection
 * splices at, as {@link RequestBodyScanner} or the Jackson path of {@link RequestBodyInspector}
 * read them (both fill it the same way: for a repeated key, the last occurrence wins), and the one
 * place that decides what is sent upstream.
 */
final class BodyFields {
  private static final byte[] STREAM_OPTIONS = "\"stream_options\":{\"include_usage\":true}".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] INCLUDE_USAGE = "\"include_usage\":true".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);

  String model;
  boolean stream;
  /** Null: {@code stream_options} has no {@code include_usage}. */
  Boolean includeUsage;
  /** Whether {@code include_usage}'s value is a literal or number that can be replaced by {@code true}. */
  boolean includeUsageSpliceable;
  long topLevelOpen = -1;
  long streamOptionsOpen = -1;
  long includeUsageStart = -1;
  long includeUsageEnd = -1;
  boolean streamOptionsIsObject;
  boolean streamOptionsPresent;

  void includeUsage(boolean value, boolean spliceable, long start, long end) {
    includeUsage = value;
    includeUsageSpliceable = spliceable;
    includeUsageStart = start;
    includeUsageEnd = end;
  }

  /**
   * What the relay does with the body: usage is injected into a streaming OpenAI-style request
   * that did not ask for it, by the smallest edit ({@code stream_options} added, {@code
   * include_usage} added to it, or its value replaced by {@code true}); a {@code stream_options}
   * that is not an object, or an {@code include_usage} that is a string, object or array, is left
   * for the server to judge.
   */
  RequestBodyInspector.Inspection inspection(byte[] body, Api api, boolean injectUsage, String promptHead, boolean wholePrompt) {
    boolean asked = Boolean.TRUE.equals(includeUsage);
    byte[] injected = null;
    if (injectUsage && api == Api.OPENAI && stream && !asked) {
      if (!streamOptionsPresent) {
        injected = insert(body, topLevelOpen + 1, STREAM_OPTIONS, !isEmptyObject(body, topLevelOpen));
      } else if (streamOptionsIsObject && includeUsage == null) {
        injected = insert(body, streamOptionsOpen + 1, INCLUDE_USAGE, !isEmptyObject(body, streamOptionsOpen));
      } else if (streamOptionsIsObject && includeUsageSpliceable) {
        injected = splice(body, (int) includeUsageStart, (int) includeUsageEnd, TRUE, false);
      }
    }
    return new RequestBodyInspector.Inspection(model, stream, asked, injected, promptHead, wholePrompt);
  }

  private static byte[] insert(byte[] body, long at, byte[] member, boolean comma) {
    return splice(body, (int) at, (int) at, member, comma);
  }

  private static boolean isEmptyObject(byte[] body, long openBrace) {
    for (int i = (int) openBrace + 1; i < body.length; i++) {
      byte b = body[i];
      if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
        continue;
      }
      return b == '}';
    }
    return false;
  }

  private static byte[] splice(byte[] body, int from, int to, byte[] insert, boolean comma) {
    int extra = comma ? 1 : 0;
    byte[] out = new byte[body.length - (to - from) + insert.length + extra];
    System.arraycopy(body, 0, out, 0, from);
    System.arraycopy(insert, 0, out, from, insert.length);
    if (comma) {
      out[from + insert.length] = ',';
    }
    System.arraycopy(body, to, out, from + insert.length + extra, body.length - to);
    return out;
  }
}
